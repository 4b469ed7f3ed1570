package configstore

// SetIn validates value and writes it into d's settings, for a caller that
// changes a setting and connections in one Update (secrets migration).
func SetIn(d *Document, key, value string) error {
	st, err := LookupSetting(key)
	if err != nil {
		return err
	}
	v, err := st.Validate(value)
	if err != nil {
		return err
	}
	if d.Settings == nil {
		d.Settings = map[string]any{}
	}
	setNested(d.Settings, key, v)
	return nil
}

// UnsetIn removes key from d's settings (no error when it is not set).
func UnsetIn(d *Document, key string) error {
	if _, err := LookupSetting(key); err != nil {
		return err
	}
	deleteNested(d.Settings, key)
	return nil
}
