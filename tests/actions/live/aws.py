"""Live case of the AWS integration: `aws.s3.list_buckets` against a fake S3.

The generated AWS actions are left out of the conformance suite (it runs
`all_actions(generated=False)`); tests/actions/test_aws.py runs this case
itself. The fake answers ListBuckets in S3's real XML shape and checks that
the request is SigV4-signed with the connection's access key for S3.
"""

from __future__ import annotations

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"

LIST_BUCKETS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner><ID>6f2b3e1c0a9d</ID><DisplayName>ops</DisplayName></Owner>
  <Buckets>
    <Bucket><Name>reports</Name><CreationDate>2024-05-01T12:00:00.000Z</CreationDate></Bucket>
    <Bucket><Name>backups</Name><CreationDate>2023-01-15T08:30:00.000Z</CreationDate></Bucket>
  </Buckets>
</ListAllMyBucketsResult>
"""


def _list_buckets(request: Request) -> Response:
    auth = request.headers.get("Authorization", "")
    signed = (
        auth.startswith("AWS4-HMAC-SHA256 ")
        and f"Credential={ACCESS_KEY_ID}/" in auth
        and "/us-east-1/s3/aws4_request" in auth
        and "Signature=" in auth
    )
    if request.method != "GET" or request.path != "/" or not signed:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
            "<Message>Access Denied</Message><RequestId>R0</RequestId></Error>"
        )
        return Response(body, 403, content_type="application/xml")
    return Response(
        LIST_BUCKETS_XML,
        200,
        {"x-amz-request-id": "4442587FB7D0A2F9"},
        content_type="application/xml",
    )


def _s3_list_buckets(server: HTTPServer) -> Live:
    server.expect_request("/", method="GET").respond_with_handler(_list_buckets)
    conn = Connection(
        "aws-live",
        "aws",
        fields={"region": "us-east-1", "endpoint_url": server.url_for("/")},
        secrets={"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET},
    )
    return Live({}, conn)


CASES: dict[str, LiveCase] = {"aws.s3.list_buckets": _s3_list_buckets}
