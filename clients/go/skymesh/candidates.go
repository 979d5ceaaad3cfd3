package skymesh

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	portalv1 "github.com/skymesh/skymesh/clients/go/gen/skymesh/portal/v1"
)

// CandidatesPage is one page of the scanning list (SkyPortal's GET /api/candidates).
type CandidatesPage struct {
	Candidates   []Document  `json:"candidates"`
	TotalMatches json.Number `json:"totalMatches"`
	PageNumber   json.Number `json:"pageNumber"`
	NumPerPage   json.Number `json:"numPerPage"`
	QueryID      string      `json:"queryID"`
}

// IDs are the candidates' object ids, in the page's order.
func (p *CandidatesPage) IDs() []string {
	ids := make([]string, 0, len(p.Candidates))
	for _, candidate := range p.Candidates {
		if id, ok := candidate["id"].(string); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// ListCandidates is a page of the objects that the filters of groupIDs passed (all the
// caller's groups when none are given), newest first; page counts from 1, perPage ≤ 500.
func (c *Client) ListCandidates(
	ctx context.Context, groupIDs []int32, page, perPage int,
) (*CandidatesPage, error) {
	request := &portalv1.ListCandidatesRequest{GroupIDs: joinIDs(groupIDs)}
	if page > 0 {
		request.PageNumber = strconv.Itoa(page)
	}
	if perPage > 0 {
		request.NumPerPage = strconv.Itoa(perPage)
	}
	body, err := c.Portal.ListCandidates(ctx, request)
	if err != nil {
		return nil, err
	}
	var answer CandidatesPage
	if err := unwrap(body.GetData(), &answer); err != nil {
		return nil, err
	}
	return &answer, nil
}

func joinIDs(ids []int32) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(int(id))
	}
	return strings.Join(parts, ",")
}
