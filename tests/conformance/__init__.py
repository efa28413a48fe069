"""The adapter conformance kit, run against our adapters and against broken ones."""
