//! Tests of the public parameter API against texts recorded from AWS CLI 1.45.11.
