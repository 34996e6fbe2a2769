"""A real S3-compatible server for tests: moto's server mode on loopback, in this process,
with authentication on. It holds an IAM user whose access key may do anything in S3; any
other key is refused, as AWS refuses it. The environment it gives points boto at it."""
from __future__ import annotations

import atexit
import json
import logging
import urllib.request
from dataclasses import dataclass

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
BUCKET = "datagran-test"
ALLOW_S3 = {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


@dataclass
class S3Server:
    endpoint: str
    key: str
    secret: str
    bucket: str = BUCKET

    def env(self) -> dict[str, str]:
        """The standard AWS variables that point s3fs (and boto) at this server."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.key,
                "AWS_SECRET_ACCESS_KEY": self.secret, "AWS_DEFAULT_REGION": REGION}

    def client(self):  # noqa: ANN201 - a boto3 S3 client
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=self.key, aws_secret_access_key=self.secret)

    def keys(self, prefix: str) -> dict[str, int]:
        """Object key → size, under a prefix, read with plain boto (not with the store)."""
        pages = self.client().get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix)
        return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def start_s3_server() -> tuple[ThreadedMotoServer, S3Server]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # Authentication is off until reset-auth: make the user and its key first.
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="datagran")
    iam.put_user_policy(UserName="datagran", PolicyName="s3",
                        PolicyDocument=json.dumps(ALLOW_S3))
    key = iam.create_access_key(UserName="datagran")["AccessKey"]
    s3 = S3Server(endpoint=endpoint, key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    s3.client().create_bucket(Bucket=s3.bucket)
    urllib.request.urlopen(urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
        headers={"Content-Type": "text/plain"}), timeout=10)
    return server, s3


_running: tuple[ThreadedMotoServer, S3Server] | None = None


@pytest.fixture(scope="session")
def s3_server() -> S3Server:
    """One server for the whole test process: moto keeps its accounts and its authentication
    switch per process, so a second server could not make its user once the first has
    turned authentication on. Each module that imports this fixture gets the same one."""
    global _running
    if _running is None:
        _running = start_s3_server()
        atexit.register(_running[0].stop)
    return _running[1]
