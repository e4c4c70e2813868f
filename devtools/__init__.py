"""Dev-only tools, outside the runtime package cestools: the benchmark, the hand-written
reference implementations it measures against, a throwaway PostgreSQL server for tests and the
bench, and the browser helpers of the dashboard tests."""
