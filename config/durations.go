package config

import (
	"reflect"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// unitless is the first duration key the file sets as a bare number, "" when none does.
// TOML decodes env_timeout = 10 into a time.Duration as ten nanoseconds, which passes a
// check that the value is positive and then fails every call.
func unitless(md toml.MetaData) string {
	for _, k := range md.Keys() {
		if t := md.Type(k...); (t == "Integer" || t == "Float") && durationAt(reflect.TypeFor[file](), k) {
			return k.String()
		}
	}
	return ""
}

// durationAt says whether key, below the type t, is a time.Duration. A [lines.NAME] table
// is a line; a table that repeats ([[report.schedule]]) is one of its elements.
func durationAt(t reflect.Type, key toml.Key) bool {
	for _, part := range key {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t == reflect.TypeFor[toml.Primitive]() {
			t = reflect.TypeFor[line]()
		}
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem() // part is the map's key: a line's or an identifier's name
		case reflect.Struct:
			f, ok := fieldNamed(t, part)
			if !ok {
				return false
			}
			t = f.Type
		default:
			return false
		}
	}
	return t == reflect.TypeFor[time.Duration]()
}

// fieldNamed is the field of the struct type t whose toml key is name. Unlike tomlName
// it passes over a field without a tag (a type of another package, which a mistaken
// key can reach) rather than panic.
func fieldNamed(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, ok := f.Tag.Lookup("toml"); ok && f.IsExported() && strings.Split(tag, ",")[0] == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
