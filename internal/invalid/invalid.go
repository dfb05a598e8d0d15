// Package invalid formats the module's one error for an option at fault:
// the package's sentinel, the one field, its value and the rule it breaks,
//
//	train: invalid options: Epochs -1: must be >= 0
//
// so that every options type of the module reports a bad value the same way
// (issue 12), never by printing the whole struct.
package invalid

import (
	"fmt"
	"reflect"
)

// Field returns an error wrapping sentinel (errors.Is finds it) that reads
// "<sentinel>: <field> <value>: <rule>". Strings, and values whose type has
// a String method or is a string kind (typed enums), are quoted; nil prints
// as <nil>.
func Field(sentinel error, field string, value any, rule string) error {
	if value != nil {
		if _, ok := value.(fmt.Stringer); ok || reflect.TypeOf(value).Kind() == reflect.String {
			return fmt.Errorf("%w: %s %q: %s", sentinel, field, value, rule)
		}
	}
	return fmt.Errorf("%w: %s %v: %s", sentinel, field, value, rule)
}
