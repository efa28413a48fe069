"""Test support shipped with Homeroom, including the synthetic district generator.

``generate_district`` writes a realistic, seeded K-12 district as a OneRoster
1.2 bulk CSV set; the vendor simulators, the demo and the tests read it.
"""

from hub.testing.synthetic import (
    DistrictSpec,
    GeneratedDistrict,
    generate_district,
    is_generated,
    is_oneroster_set,
    read_generated_spec,
)

__all__ = [
    "DistrictSpec",
    "GeneratedDistrict",
    "generate_district",
    "is_generated",
    "is_oneroster_set",
    "read_generated_spec",
]
