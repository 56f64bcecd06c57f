package netcheck

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// The Go types are checked against the JSON Schemas of contract/v1: the same field names, and a
// field is required in the schema exactly when its Go field has no omitempty. A union (anyOf:
// CheckResult's ok and failed shapes) counts every field of any branch, and requires the fields
// every branch requires.

type schema = map[string]any

func resolve(node schema, root schema) schema {
	ref, ok := node["$ref"].(string)
	if !ok {
		return node
	}
	name := strings.TrimPrefix(ref, "#/$defs/")
	def, ok := root["$defs"].(map[string]any)[name].(map[string]any)
	if !ok {
		panic("unresolved " + ref)
	}
	return resolve(def, root)
}

func shapeOf(node schema, root schema) (fields map[string]bool, required map[string]bool) {
	node = resolve(node, root)
	if branches, ok := node["anyOf"].([]any); ok {
		fields, required = map[string]bool{}, nil
		for _, b := range branches {
			f, r := shapeOf(b.(map[string]any), root)
			for k := range f {
				fields[k] = true
			}
			if required == nil {
				required = r
				continue
			}
			for k := range required {
				if !r[k] {
					delete(required, k)
				}
			}
		}
		return fields, required
	}
	fields, required = map[string]bool{}, map[string]bool{}
	for k := range node["properties"].(map[string]any) {
		fields[k] = true
	}
	if req, ok := node["required"].([]any); ok {
		for _, k := range req {
			required[k.(string)] = true
		}
	}
	return fields, required
}

func goShape(t reflect.Type) (fields map[string]bool, required map[string]bool) {
	fields, required = map[string]bool{}, map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			ef, er := goShape(f.Type)
			for k := range ef {
				fields[k] = true
			}
			for k := range er {
				required[k] = true
			}
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fields[name] = true
		if !strings.Contains(opts, "omitempty") {
			required[name] = true
		}
	}
	return fields, required
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestShapes(t *testing.T) {
	data := []struct {
		def string
		v   any
	}{
		{"SimSwapCheckData", SimSwapCheckData{}},
		{"SimSwapDateData", SimSwapDateData{}},
		{"ConnectivityData", ConnectivityData{}},
		{"RoamingData", RoamingData{}},
		{"CarrierData", CarrierData{}},
		{"CarrierNetwork", CarrierNetwork{}},
		{"CheckTimestamps", CheckTimestamps{}},
		{"CheckError", CheckError{}},
	}
	cases := []struct {
		file, def string
		v         any
	}{
		{"network-check.input.json", "", NetworkCheckInput{}},
		{"network-check.result.json", "", CheckResult{}},
		{"network-check.status.json", "", CheckProgress{}},
		{"batch-check.input.json", "", BatchInput{}},
		{"batch-check.input.json", "BatchOptions", BatchOptions{}},
		{"batch-check.add-page.input.json", "", BatchPage{}},
		{"batch-check.add-page.input.json", "BatchPageItem", BatchPageItem{}},
		{"batch-check.add-page.result.json", "", AddPageAck{}},
		{"batch-check.result.json", "", BatchProgress{}},
		{"batch-record.json", "", BatchRecord{}},
		{"batch-result-page.result.json", "StoredRecord", BatchRecord{}},
		{"batch-item.json", "", BatchItem{}},
		{"nexus.check.input.json", "", NexusCheckInput{}},
		{"nexus.batch.input.json", "", NexusBatchInput{}},
	}
	for _, d := range data {
		cases = append(cases, struct {
			file, def string
			v         any
		}{"network-check.result.json", d.def, d.v})
	}
	// Each profile's result: the same result and data types.
	var m manifest
	readJSON(t, "contract.json", &m)
	for op, spec := range m.Operations {
		for _, api := range spec.APIs {
			file := fmt.Sprintf("checks/%s.%s.result.json", api, op)
			cases = append(cases, struct {
				file, def string
				v         any
			}{file, "", CheckResult{}})
		}
	}
	for _, c := range cases {
		var root schema
		readJSON(t, "schemas/"+c.file, &root)
		node := root
		if c.def != "" {
			node = schema{"$ref": "#/$defs/" + c.def}
		}
		sf, sr := shapeOf(node, root)
		gf, gr := goShape(reflect.TypeOf(c.v))
		name := fmt.Sprintf("%s %s ↔ %T", c.file, c.def, c.v)
		if got, want := sortedKeys(gf), sortedKeys(sf); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Go fields %v, schema fields %v", name, got, want)
		}
		if got, want := sortedKeys(gr), sortedKeys(sr); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Go required %v, schema required %v", name, got, want)
		}
	}
}
