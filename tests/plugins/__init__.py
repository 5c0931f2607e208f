"""pytest plugins of the test rig: audits that watch the whole suite (SQL statements, Redis keys)."""
