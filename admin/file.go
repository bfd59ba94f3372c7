package admin

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/calfed/calfed/internal/yamlcheck"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// File is the YAML of `calfed orgrel export` and `calfed orgrel apply -f`.
type File struct {
	Relationships []orgrel.Relationship `yaml:"relationships"`
}

// fileRelationship decodes one relationship with Exchange's defaults for
// what the file leaves out: enabled, free/busy off, and AvailabilityOnly
// once free/busy is on; MailTips off, and Limited once they are on. docs/protocol.md
// §5, §8.1.
type fileRelationship orgrel.Relationship

func (f *fileRelationship) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, reflect.TypeOf(orgrel.Relationship{})); err != nil {
		return err
	}
	type plain orgrel.Relationship
	var probe struct {
		Enabled  *bool                 `yaml:"enabled"`
		Level    *orgrel.Level         `yaml:"free_busy_access_level"`
		MailTips *orgrel.MailTipsLevel `yaml:"mail_tips_access_level"`
	}
	if err := n.Decode(&probe); err != nil {
		return err
	}
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	p.Enabled = probe.Enabled == nil || *probe.Enabled
	if probe.Level == nil {
		p.FreeBusyAccessLevel = orgrel.None
		if p.FreeBusyAccessEnabled {
			p.FreeBusyAccessLevel = orgrel.AvailabilityOnly
		}
	}
	if probe.MailTips == nil {
		p.MailTipsAccessLevel = orgrel.MailTipsNone
		if p.MailTipsAccessEnabled {
			p.MailTipsAccessLevel = orgrel.MailTipsLimited
		}
	}
	*f = fileRelationship(p)
	return nil
}

// ParseFile reads relationships strictly: an unknown field is an error
// naming its line.
func ParseFile(data []byte) (File, error) {
	var raw struct {
		Relationships []fileRelationship `yaml:"relationships"`
	}
	// Every problem at once, each with its field and line.
	if _, errs := yamlcheck.Check(data, reflect.TypeOf(raw)); len(errs) > 0 {
		return File{}, fmt.Errorf("%w: %w", store.ErrInvalid, yamlcheck.Under("not a relationships file as orgrel export writes it", errs...))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return File{}, fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	var f File
	for _, r := range raw.Relationships {
		f.Relationships = append(f.Relationships, orgrel.Relationship(r))
	}
	return f, nil
}

// Marshal writes f as YAML.
func (f File) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// knownKeys refuses mapping keys that t (and its struct fields, one level
// down) has no yaml tag for; yaml.v3 does not carry KnownFields into a
// custom unmarshaller.
func knownKeys(n *yaml.Node, t reflect.Type) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = t.Field(i).Type
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ft, ok := fields[k.Value]
		if !ok {
			return fmt.Errorf("line %d: field %s not found in %s", k.Line, k.Value, t.Name())
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}) {
			if err := knownKeys(n.Content[i+1], ft); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReadFile reads and parses (ParseFile) the file path, or stdin when path
// is "-"; a file it cannot parse is named in the error.
func ReadFile(path string, stdin io.Reader) (File, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return File{}, err
	}
	f, err := ParseFile(data)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// WriteFile writes f (Marshal) into the file path, readable by its owner
// only, or to w when path is empty.
func WriteFile(path string, w io.Writer, f File) error {
	data, err := f.Marshal()
	if err != nil {
		return err
	}
	if path == "" {
		_, err = w.Write(data)
		return err
	}
	return os.WriteFile(path, data, 0o600)
}
