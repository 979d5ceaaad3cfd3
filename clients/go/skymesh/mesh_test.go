package skymesh_test

// These tests call a running mesh through its gateway. tests/integration/test_clients.py runs
// them in `make test` against the shared test mesh, with SKYMESH_* set to a scene it made: a
// group whose filter passed a few alerts (candidates), and a bundled alert to look for.

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	archivev1 "github.com/skymesh/skymesh/clients/go/gen/skymesh/archive/v1"
	"github.com/skymesh/skymesh/clients/go/skymesh"
)

type scene struct {
	gateway, username, password string
	groupID, filterID           int32
	candid                      string   // a bundled alert's candid (above 2^53)
	objectID                    string   // its object
	ra, dec                     float64  // its position
	candidates                  []string // objects the group's filter passed
}

func sceneOf(t *testing.T) scene {
	t.Helper()
	gateway := os.Getenv("SKYMESH_GATEWAY")
	if gateway == "" {
		t.Skip("SKYMESH_GATEWAY is not set: tests/integration/test_clients.py runs these against the mesh")
	}
	number := func(name string) float64 {
		value, err := strconv.ParseFloat(os.Getenv(name), 64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return value
	}
	return scene{
		gateway:    gateway,
		username:   os.Getenv("SKYMESH_USERNAME"),
		password:   os.Getenv("SKYMESH_PASSWORD"),
		groupID:    int32(number("SKYMESH_GROUP_ID")),
		filterID:   int32(number("SKYMESH_FILTER_ID")),
		candid:     os.Getenv("SKYMESH_CANDID"),
		objectID:   os.Getenv("SKYMESH_OBJECT_ID"),
		ra:         number("SKYMESH_RA"),
		dec:        number("SKYMESH_DEC"),
		candidates: strings.Split(os.Getenv("SKYMESH_CANDIDATES"), ","),
	}
}

func connect(t *testing.T, s scene, login bool) (*skymesh.Client, context.Context) {
	t.Helper()
	client, err := skymesh.Dial(s.gateway)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	if login {
		if err := client.Login(ctx, s.username, s.password); err != nil {
			t.Fatal(err)
		}
	}
	return client, ctx
}

func TestAWrongPasswordIsRefused(t *testing.T) {
	s := sceneOf(t)
	client, ctx := connect(t, s, false)
	err := client.Login(ctx, s.username, s.password+"-wrong")
	if status.Code(errors.Unwrap(err)) != codes.Unauthenticated {
		t.Fatalf("login with a wrong password: want Unauthenticated, got %v", err)
	}
	if client.Token() != "" {
		t.Fatal("a refused login left a token")
	}
}

func TestACallWithoutATokenIsRefused(t *testing.T) {
	s := sceneOf(t)
	client, ctx := connect(t, s, false)
	_, err := client.Archive.Query(ctx, &archivev1.QueryRequest{QueryType: "info", QueryJson: `{"command": "catalog_names"}`})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("want Unauthenticated, got %v", err)
	}
}

func TestFindKeepsCandidsExact(t *testing.T) {
	s := sceneOf(t)
	client, ctx := connect(t, s, true)
	candid, err := strconv.ParseInt(s.candid, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	documents, err := client.Find(ctx, "ZTF_alerts", map[string]any{"candid": candid},
		map[string]any{"candid": 1, "objectId": 1, "_id": 0}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(documents) != 1 {
		t.Fatalf("want the one alert %s, got %d documents", s.candid, len(documents))
	}
	if got := documents[0]["candid"].(interface{ String() string }).String(); got != s.candid {
		t.Fatalf("candid came back as %s, want %s", got, s.candid)
	}
	if documents[0]["objectId"] != s.objectID {
		t.Fatalf("objectId %v, want %s", documents[0]["objectId"], s.objectID)
	}
	count, err := client.Count(ctx, "ZTF_alerts", map[string]any{"objectId": s.objectID})
	if err != nil || count < 1 {
		t.Fatalf("count of %s's alerts: %d, %v", s.objectID, count, err)
	}
}

func TestAnInvalidQueryIsAnAPIError(t *testing.T) {
	s := sceneOf(t)
	client, ctx := connect(t, s, true)
	_, err := client.Find(ctx, "ZTF_alerts", map[string]any{"$where": "1"}, nil, 1)
	var apiErr *skymesh.APIError
	if !errors.As(err, &apiErr) && status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a $where filter: want a refusal, got %v", err)
	}
}

func TestConeSearchFindsTheAlertAtItsPosition(t *testing.T) {
	s := sceneOf(t)
	client, ctx := connect(t, s, true)
	answer, err := client.ConeSearch(ctx,
		[]skymesh.Position{{Name: "here", RA: s.ra, Dec: s.dec}, {Name: "empty", RA: s.ra, Dec: -s.dec}},
		1, []string{"ZTF_alerts"}, nil, map[string]any{"objectId": 1, "candid": 1})
	if err != nil {
		t.Fatal(err)
	}
	var objects []string
	for _, document := range answer["ZTF_alerts"]["here"] {
		objects = append(objects, document["objectId"].(string))
	}
	if !slices.Contains(objects, s.objectID) {
		t.Fatalf("no %s within 1\" of (%f, %f): %v", s.objectID, s.ra, s.dec, objects)
	}
	if far := answer["ZTF_alerts"]["empty"]; len(far) != 0 {
		t.Fatalf("alerts at the mirrored declination: %v", far)
	}
}

func TestCreateAndTestAFilter(t *testing.T) {
	s := sceneOf(t)
	client, ctx := connect(t, s, true)
	pipeline := `[{"$match": {"objectId": "` + s.objectID + `"}}, {"$project": {"objectId": 1, "candid": 1}}]`
	fid, err := client.CreateFilter(ctx, skymesh.FilterVersion{
		GroupID: s.groupID, FilterID: s.filterID, Catalog: "ZTF_alerts",
		Permissions: []int32{1, 2, 3}, Pipeline: pipeline,
	})
	if err != nil {
		t.Fatal(err)
	}
	if fid == "" {
		t.Fatal("no version id")
	}
	test, err := client.TestFilter(ctx, s.filterID, s.objectID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := client.Count(ctx, "ZTF_alerts", map[string]any{"objectId": s.objectID})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(test.Passed)) != want {
		t.Fatalf("the filter passed %d alerts, want %s's %d", len(test.Passed), s.objectID, want)
	}
	for _, alert := range test.Passed {
		if alert["objectId"] != s.objectID {
			t.Fatalf("the filter passed an alert of %v", alert["objectId"])
		}
	}
	// An invalid pipeline is refused with a reason, and the active version stays.
	_, err = client.CreateFilter(ctx, skymesh.FilterVersion{
		GroupID: s.groupID, FilterID: s.filterID, Catalog: "ZTF_alerts",
		Permissions: []int32{1, 2, 3}, Pipeline: `[{"$out": "stolen"}]`,
	})
	if err == nil {
		t.Fatal("a pipeline with $out was accepted")
	}
}

func TestListCandidatesOfTheGroup(t *testing.T) {
	s := sceneOf(t)
	client, ctx := connect(t, s, true)
	page, err := client.ListCandidates(ctx, []int32{s.groupID}, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	total, err := page.TotalMatches.Int64()
	if err != nil || total != int64(len(s.candidates)) {
		t.Fatalf("totalMatches %s, want %d", page.TotalMatches, len(s.candidates))
	}
	got := page.IDs()
	slices.Sort(got)
	want := slices.Clone(s.candidates)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("candidates %v, want %v", got, want)
	}
}
