"""End-to-end policy tests: every persona against a generated district, checked
against ground truth computed from the CSV files and policy files alone."""
