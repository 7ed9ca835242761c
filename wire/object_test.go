package wire

import "testing"

func TestObjectKeepsOtherMembersByteForByte(t *testing.T) {
	in := `{"id":"x", "n": 1.50e3,"choices":[{"a":1}],"z":{"k":[true,null]}}`
	o, err := ParseObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	o.Set("choices", []byte(`[]`))
	got, _ := o.MarshalJSON()
	if want := `{"id":"x","n":1.50e3,"choices":[],"z":{"k":[true,null]}}`; string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

func TestParseObjectRejects(t *testing.T) {
	for _, in := range []string{`[]`, `{"a":}`, `{"a":1`, ``, `"s"`} {
		if _, err := ParseObject([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func FuzzParseObjectRoundTrip(f *testing.F) {
	f.Add(`{"a":1,"b":[1,2,{"c":"d"}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		o, err := ParseObject([]byte(in))
		if err != nil {
			return
		}
		out, err := o.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseObject(out); err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
	})
}
