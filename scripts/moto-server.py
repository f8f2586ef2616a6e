#!/usr/bin/env python3
"""A throwaway S3-compatible server for the tests (moto's), on 127.0.0.1.

Usage: moto-server.py [BUCKET...]

Listens on a free port, creates the buckets named, prints the port on one
line, and serves until its standard input closes (the test that started it
ended, or died), then stops. Nothing leaves this machine: moto keeps
everything in memory.
"""
import logging
import sys

from moto.server import ThreadedMotoServer


def main() -> None:
    # One line per request on stderr would bury the test's own output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    if len(sys.argv) > 1:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://{host}:{port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for bucket in sys.argv[1:]:
            s3.create_bucket(Bucket=bucket)
    print(port, flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
