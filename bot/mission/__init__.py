"""The mission: the YAML file's parsing and validation (`file`) and the service (`service`):
sync into a workspace, the catalog, lookup by key, number or fuzzy title."""
