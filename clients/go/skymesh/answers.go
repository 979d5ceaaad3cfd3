package skymesh

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Document is one MongoDB document as the mesh answers it (relaxed Extended JSON). Numbers
// are json.Number: ZTF candids are above 2^53 and would lose digits as float64.
type Document = map[string]any

// decodeExact decodes JSON keeping every number as json.Number.
func decodeExact(data []byte, out any) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	return decoder.Decode(out)
}

// envelope is the JSON answer of Kowalski's and SkyPortal's routes.
type envelope struct {
	Status  string          `json:"status"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// APIError is an answer whose status is "error" (the call itself succeeded).
type APIError struct{ Message string }

func (e *APIError) Error() string { return "skymesh: " + e.Message }

// unwrap checks an envelope's status and decodes its data into out.
func unwrap(body []byte, out any) error {
	var answer envelope
	if err := decodeExact(body, &answer); err != nil {
		return fmt.Errorf("skymesh: an answer that is not JSON: %w", err)
	}
	if answer.Status != "success" {
		return &APIError{Message: answer.Message}
	}
	if out == nil || len(answer.Data) == 0 {
		return nil
	}
	return decodeExact(answer.Data, out)
}
