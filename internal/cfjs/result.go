package cfjs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// decodeResult reads what handler returned (as JSON) with the types
// CloudFront requires: strings where it wants strings, an integer
// statusCode, objects of {value} for headers and query parameters. A
// value of the wrong type is CloudFront's validation error.
func decodeResult(eventType string, b []byte) (*Result, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("%w: handler returned %s, not a request or a response object", ErrValidation, clip(b))
	}
	_, isResponse := top["statusCode"]
	if eventType == ViewerResponse || isResponse {
		r, err := decodeResponse(top)
		if err != nil {
			return nil, fmt.Errorf("%w: response.%w", ErrValidation, err)
		}
		return &Result{Response: r}, nil
	}
	r, err := decodeRequest(top)
	if err != nil {
		return nil, fmt.Errorf("%w: request.%w", ErrValidation, err)
	}
	return &Result{Request: r}, nil
}

func decodeRequest(top map[string]json.RawMessage) (*Request, error) {
	r := &Request{}
	if err := str(top, "method", &r.Method, true); err != nil {
		return nil, err
	}
	if err := str(top, "uri", &r.URI, true); err != nil {
		return nil, err
	}
	var err error
	if r.QueryString, err = values(top, "querystring"); err != nil {
		return nil, err
	}
	r.QueryOrder = keyOrder(top["querystring"])
	if r.Headers, err = values(top, "headers"); err != nil {
		return nil, err
	}
	if r.Cookies, err = cookies(top, "cookies"); err != nil {
		return nil, err
	}
	return r, nil
}

func decodeResponse(top map[string]json.RawMessage) (*Response, error) {
	r := &Response{}
	raw, ok := top["statusCode"]
	if !ok {
		return nil, fmt.Errorf("statusCode: missing")
	}
	code, err := strconv.Atoi(string(bytes.TrimSpace(raw)))
	if err != nil {
		return nil, fmt.Errorf("statusCode: %s is not an integer (a number, not a string)", clip(raw))
	}
	r.StatusCode = code
	if err := str(top, "statusDescription", &r.StatusDescription, false); err != nil {
		return nil, err
	}
	if r.Headers, err = values(top, "headers"); err != nil {
		return nil, err
	}
	if r.Cookies, err = cookies(top, "cookies"); err != nil {
		return nil, err
	}
	if raw, ok := top["body"]; ok && string(raw) != "null" {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			r.Body = &Body{Data: s, Encoding: "text"}
		} else {
			var b struct {
				Data     *string `json:"data"`
				Encoding *string `json:"encoding"`
			}
			if err := json.Unmarshal(raw, &b); err != nil || b.Data == nil {
				return nil, fmt.Errorf("body: want a string or {data, encoding}, got %s", clip(raw))
			}
			r.Body = &Body{Data: *b.Data, Encoding: "text"}
			if b.Encoding != nil {
				r.Body.Encoding = *b.Encoding
			}
			if r.Body.Encoding != "text" && r.Body.Encoding != "base64" {
				return nil, fmt.Errorf("body.encoding: %q, want text or base64", r.Body.Encoding)
			}
		}
	}
	return r, nil
}

func str(top map[string]json.RawMessage, name string, dst *string, required bool) error {
	raw, ok := top[name]
	if !ok {
		if required {
			return fmt.Errorf("%s: missing", name)
		}
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s: %s is not a string", name, clip(raw))
	}
	return nil
}

type rawValue struct {
	Value      *string `json:"value"`
	MultiValue []struct {
		Value *string `json:"value"`
	} `json:"multiValue"`
}

// values reads a headers or querystring object; left out, it is empty.
func values(top map[string]json.RawMessage, name string) (map[string]Value, error) {
	raw, ok := top[name]
	if !ok || string(raw) == "null" {
		return map[string]Value{}, nil
	}
	var m map[string]rawValue
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: want an object of {value: string}: %v", name, err)
	}
	out := make(map[string]Value, len(m))
	for k, v := range m {
		if v.Value == nil {
			return nil, fmt.Errorf("%s[%q].value: missing", name, k)
		}
		val := Value{Value: *v.Value}
		for i, mv := range v.MultiValue {
			if mv.Value == nil {
				return nil, fmt.Errorf("%s[%q].multiValue[%d].value: missing", name, k, i)
			}
			val.MultiValue = append(val.MultiValue, Value{Value: *mv.Value})
		}
		out[k] = val
	}
	return out, nil
}

type rawCookie struct {
	Value      *string `json:"value"`
	Attributes *string `json:"attributes"`
	MultiValue []struct {
		Value      *string `json:"value"`
		Attributes *string `json:"attributes"`
	} `json:"multiValue"`
}

func cookies(top map[string]json.RawMessage, name string) (map[string]Cookie, error) {
	raw, ok := top[name]
	if !ok || string(raw) == "null" {
		return map[string]Cookie{}, nil
	}
	var m map[string]rawCookie
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: want an object of {value: string}: %v", name, err)
	}
	out := make(map[string]Cookie, len(m))
	for k, c := range m {
		if c.Value == nil {
			return nil, fmt.Errorf("%s[%q].value: missing", name, k)
		}
		ck := Cookie{Value: *c.Value}
		if c.Attributes != nil {
			ck.Attributes = *c.Attributes
		}
		for i, mv := range c.MultiValue {
			if mv.Value == nil {
				return nil, fmt.Errorf("%s[%q].multiValue[%d].value: missing", name, k, i)
			}
			one := Cookie{Value: *mv.Value}
			if mv.Attributes != nil {
				one.Attributes = *mv.Attributes
			}
			ck.MultiValue = append(ck.MultiValue, one)
		}
		out[k] = ck
	}
	return out, nil
}

// keyOrder lists an object's keys in their JSON order.
func keyOrder(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}

// clip bounds a JSON excerpt in an error message.
func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
