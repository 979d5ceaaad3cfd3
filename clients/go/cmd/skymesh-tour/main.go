// skymesh-tour logs in to a skymesh gateway over gRPC and shows the archive and the portal:
// how many alerts there are, the newest few, what lies around the newest, and the first page
// of the caller's candidates.
//
//	go run ./cmd/skymesh-tour -gateway 127.0.0.1:8080 -user admin -password "$SKYMESH_ADMIN_PASSWORD"
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"time"

	"github.com/skymesh/skymesh/clients/go/skymesh"
)

func main() {
	gateway := flag.String("gateway", "127.0.0.1:8080", "the gateway's host:port")
	user := flag.String("user", "admin", "username")
	password := flag.String("password", os.Getenv("SKYMESH_ADMIN_PASSWORD"), "password")
	catalog := flag.String("catalog", "ZTF_alerts", "alert collection")
	flag.Parse()

	client, err := skymesh.Dial(*gateway)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := client.Login(ctx, *user, *password); err != nil {
		log.Fatal(err)
	}

	total, err := client.Count(ctx, *catalog, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d alerts\n", *catalog, total)

	var newest []skymesh.Document
	err = client.Query(ctx, "find",
		map[string]any{"catalog": *catalog, "filter": map[string]any{},
			"projection": map[string]any{"_id": 0, "candid": 1, "objectId": 1, "candidate.ra": 1,
				"candidate.dec": 1, "candidate.jd": 1, "candidate.magpsf": 1}},
		map[string]any{"sort": [][]any{{"candidate.jd", -1}}, "limit": 3}, &newest)
	if err != nil {
		log.Fatal(err)
	}
	for _, alert := range newest {
		candidate := alert["candidate"].(skymesh.Document)
		fmt.Printf("  %v %v jd %v mag %v\n", alert["objectId"], alert["candid"], candidate["jd"], candidate["magpsf"])
	}

	if len(newest) > 0 {
		candidate := newest[0]["candidate"].(skymesh.Document)
		ra, _ := strconv.ParseFloat(fmt.Sprint(candidate["ra"]), 64)
		dec, _ := strconv.ParseFloat(fmt.Sprint(candidate["dec"]), 64)
		around, err := client.ConeSearch(ctx, []skymesh.Position{{Name: "newest", RA: ra, Dec: dec}},
			10, []string{*catalog}, nil, map[string]any{"objectId": 1})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("within 10\" of (%.5f, %.5f): %d alerts\n", ra, dec, len(around[*catalog]["newest"]))
	}

	page, err := client.ListCandidates(ctx, nil, 1, 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("candidates: %s in all; first page: %v\n", page.TotalMatches, page.IDs())
}
