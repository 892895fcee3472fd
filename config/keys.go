package config

import (
	"reflect"
	"strings"
)

// Keys lists every key of the schema that a configuration sets as one value, as dotted
// paths ("agi.listen", "crm.by_phone.url"). A table that repeats ([[web.user]],
// [[report.schedule]]) and the [lines.*] tables count as one key each.
func Keys() []string {
	var keys []string
	walk(reflect.ValueOf(&Config{}).Elem(), "", func(key string, _ reflect.Value) { keys = append(keys, key) })
	return keys
}

// Changed lists the keys whose values differ between a and b.
func Changed(a, b *Config) []string {
	values := map[string]reflect.Value{}
	walk(reflect.ValueOf(a).Elem(), "", func(key string, v reflect.Value) { values[key] = v })
	var changed []string
	walk(reflect.ValueOf(b).Elem(), "", func(key string, v reflect.Value) {
		if !reflect.DeepEqual(values[key].Interface(), v.Interface()) {
			changed = append(changed, key)
		}
	})
	return changed
}

// Keep sets key in dst to its value in src.
func Keep(dst, src *Config, key string) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for _, name := range strings.Split(key, ".") {
		d, s = field(d, name), field(s, name)
	}
	d.Set(s)
}

// walk calls f with each key under v, a struct of this package, and its value.
func walk(v reflect.Value, prefix string, f func(key string, v reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name := tomlName(sf)
		if name == "" {
			continue
		}
		key := prefix + name
		if sf.Type.Kind() == reflect.Struct && sf.Type.PkgPath() == t.PkgPath() {
			walk(v.Field(i), key+".", f)
			continue
		}
		f(key, v.Field(i))
	}
}

// field is the field of struct v whose toml name is name.
func field(v reflect.Value, name string) reflect.Value {
	if f, ok := fieldNamed(v.Type(), name); ok {
		return v.FieldByIndex(f.Index)
	}
	panic("config: no key " + name + " in " + v.Type().String())
}

// tomlName is a field's key; "" for an unexported field or one tagged "-". An exported
// field without a tag would be decoded under a key of its own name and escape Keys: it
// panics, so that the schema's tests catch it.
func tomlName(sf reflect.StructField) string {
	if !sf.IsExported() {
		return ""
	}
	tag, ok := sf.Tag.Lookup("toml")
	if !ok || sf.Anonymous {
		panic("config: field " + sf.Name + " has no toml tag")
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	return name
}
