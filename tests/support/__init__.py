"""What the tests share: datasets with hand-worked money (datasets), helpers that drive the real
pipeline and CLI against the test servers (servers), readers of the stored tables (tables), and a
fault-injecting HTTP proxy (faultproxy). Fixtures themselves live in tests/integration/conftest.py.
"""
