"""Real database servers for tests, started on loopback in a temp directory and stopped afterwards.

- PostgreSQL: Debian's package (``scripts/scale-deps.sh`` installs it when missing); run as the
  ``postgres`` user when the tests run as root, since PostgreSQL refuses to run as root.
- Milvus Lite (``milvus-lite server``): the real gRPC server that pymilvus talks to.

Set ``FACEPRINT_TEST_PG_URL`` or ``FACEPRINT_TEST_MILVUS_URI`` to use servers of your own instead.
"""
