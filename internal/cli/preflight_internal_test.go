package cli

import (
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
)

// TestSearchAttributeTypeNames: the types read from the operator API and
// from Temporal Cloud's field names compare with the workflows' as the
// temporal CLI's --type names them.
func TestSearchAttributeTypeNames(t *testing.T) {
	for typ, want := range map[enumspb.IndexedValueType]string{
		enumspb.INDEXED_VALUE_TYPE_KEYWORD: "Keyword", enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
		enumspb.INDEXED_VALUE_TYPE_DATETIME: "Datetime", enumspb.INDEXED_VALUE_TYPE_BOOL: "Bool",
	} {
		if got := saType(typ); got != want {
			t.Errorf("saType(%s) = %q, want %q", typ, got, want)
		}
	}
	for field, want := range map[string]string{"Keyword01": "Keyword", "KeywordList02": "KeywordList", "Datetime01": "Datetime",
		"Int03": "Int", "Custom": ""} {
		if got := fieldType(field); got != want {
			t.Errorf("fieldType(%s) = %q, want %q", field, got, want)
		}
	}
	if w := wantedSearchAttributes(); w["MigrationDeadline"] != "Datetime" || w["MigrationState"] != "Keyword" {
		t.Errorf("wanted: %v", w)
	}
}
