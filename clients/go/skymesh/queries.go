package skymesh

import (
	"context"
	"encoding/json"
	"fmt"

	archivev1 "github.com/skymesh/skymesh/clients/go/gen/skymesh/archive/v1"
)

// Query runs one query of Kowalski's API (queryType find, find_one, count_documents,
// estimated_document_count, aggregate, cone_search, near or info) and decodes its data into
// out. query and kwargs are marshalled to JSON (kwargs may be nil).
func (c *Client) Query(ctx context.Context, queryType string, query, kwargs, out any) error {
	request := &archivev1.QueryRequest{QueryType: queryType}
	text, err := json.Marshal(query)
	if err != nil {
		return fmt.Errorf("skymesh: query: %w", err)
	}
	request.QueryJson = string(text)
	if kwargs != nil {
		if text, err = json.Marshal(kwargs); err != nil {
			return fmt.Errorf("skymesh: kwargs: %w", err)
		}
		request.KwargsJson = string(text)
	}
	answer, err := c.Archive.Query(ctx, request)
	if err != nil {
		return err
	}
	if answer.GetStatus() != "success" {
		return &APIError{Message: answer.GetMessage()}
	}
	if out == nil {
		return nil
	}
	return decodeExact([]byte(answer.GetDataJson()), out)
}

// Find is a find on one catalog: the documents that match filter, with projection (nil: all
// fields), at most limit of them (0: the service's default).
func (c *Client) Find(
	ctx context.Context, catalog string, filter, projection map[string]any, limit int,
) ([]Document, error) {
	query := map[string]any{"catalog": catalog, "filter": orEmpty(filter)}
	if projection != nil {
		query["projection"] = projection
	}
	var kwargs map[string]any
	if limit > 0 {
		kwargs = map[string]any{"limit": limit}
	}
	var documents []Document
	err := c.Query(ctx, "find", query, kwargs, &documents)
	return documents, err
}

// Count is count_documents on one catalog.
func (c *Client) Count(ctx context.Context, catalog string, filter map[string]any) (int64, error) {
	var count json.Number
	query := map[string]any{"catalog": catalog, "filter": orEmpty(filter)}
	if err := c.Query(ctx, "count_documents", query, nil, &count); err != nil {
		return 0, err
	}
	return count.Int64()
}

// Position is a named sky position in degrees (ICRS).
type Position struct {
	Name    string
	RA, Dec float64
}

// ConeSearch finds each catalog's documents within radiusArcsec of each position:
// answer[catalog][position name] = documents, nearest first. filter and projection apply to
// every catalog (nil: none).
func (c *Client) ConeSearch(
	ctx context.Context, positions []Position, radiusArcsec float64, catalogs []string,
	filter, projection map[string]any,
) (map[string]map[string][]Document, error) {
	radec := map[string][2]float64{}
	for _, p := range positions {
		radec[p.Name] = [2]float64{p.RA, p.Dec}
	}
	perCatalog := map[string]any{}
	for _, catalog := range catalogs {
		spec := map[string]any{"filter": orEmpty(filter)}
		if projection != nil {
			spec["projection"] = projection
		}
		perCatalog[catalog] = spec
	}
	query := map[string]any{
		"object_coordinates": map[string]any{
			"cone_search_radius": radiusArcsec,
			"cone_search_unit":   "arcsec",
			"radec":              radec,
		},
		"catalogs": perCatalog,
	}
	var answer map[string]map[string][]Document
	err := c.Query(ctx, "cone_search", query, nil, &answer)
	return answer, err
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
