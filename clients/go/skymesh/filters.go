package skymesh

import (
	"context"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	filtersv1 "github.com/skymesh/skymesh/clients/go/gen/skymesh/filters/v1"
)

// FilterVersion is a new version of a group's filter: a MongoDB aggregation pipeline run on
// each alert of catalog that the group's stream may read (permissions: programids).
type FilterVersion struct {
	GroupID     int32
	FilterID    int32
	Catalog     string
	Permissions []int32
	// The stages, as JSON text: the order of keys inside a stage is meaning ($sort), which a
	// Go map would lose.
	Pipeline string
}

// CreateFilter saves version as the filter's active version; it answers the version's id
// (fid). The pipeline is checked first: an invalid one is refused with the reason.
func (c *Client) CreateFilter(ctx context.Context, version FilterVersion) (string, error) {
	if !json.Valid([]byte(version.Pipeline)) {
		return "", fmt.Errorf("skymesh: the pipeline is not JSON: %s", version.Pipeline)
	}
	answer, err := c.Filters.CreateFilter(ctx, &filtersv1.CreateFilterRequest{
		GroupId:     version.GroupID,
		FilterId:    version.FilterID,
		Catalog:     version.Catalog,
		Permissions: version.Permissions,
		Pipeline:    structpb.NewStringValue(version.Pipeline),
	})
	if err != nil {
		return "", err
	}
	if answer.GetStatus() != "success" {
		return "", &APIError{Message: answer.GetMessage()}
	}
	fid := answer.GetData().GetStructValue().GetFields()["fid"].GetStringValue()
	if fid == "" {
		return "", fmt.Errorf("skymesh: the new version has no fid: %v", answer.GetData())
	}
	return fid, nil
}

// FilterTest is the answer of TestFilter: the alerts that pass, as the filter outputs them.
type FilterTest struct {
	Message string
	Passed  []Document
	Errors  struct {
		AlertsEvaluated json.Number `json:"alerts_evaluated"`
		Count           json.Number `json:"count"`
	}
}

// TestFilter runs the filter's active version on archived alerts (of objectIDs, if given)
// without posting anything.
func (c *Client) TestFilter(ctx context.Context, filterID int32, objectIDs ...string) (*FilterTest, error) {
	body, err := c.Filters.TestFilter(ctx, &filtersv1.TestFilterRequest{
		FilterId:  filterID,
		ObjectIds: objectIDs,
	})
	if err != nil {
		return nil, err
	}
	var answer struct {
		envelope
		Errors json.RawMessage `json:"errors"`
	}
	if err := decodeExact(body.GetData(), &answer); err != nil {
		return nil, fmt.Errorf("skymesh: a filter test answer that is not JSON: %w", err)
	}
	if answer.Status != "success" {
		return nil, &APIError{Message: answer.Message}
	}
	test := &FilterTest{Message: answer.Message}
	if err := decodeExact(answer.Data, &test.Passed); err != nil {
		return nil, err
	}
	if len(answer.Errors) > 0 {
		if err := decodeExact(answer.Errors, &test.Errors); err != nil {
			return nil, err
		}
	}
	return test, nil
}
