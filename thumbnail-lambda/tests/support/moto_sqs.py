"""S3 -> SQS wiring on the moto test server, with boto3 (installed alongside moto).

    moto_sqs.py notify ENDPOINT BUCKET QUEUE   create QUEUE and send BUCKET's ObjectCreated events to it
    moto_sqs.py receive ENDPOINT QUEUE N       print the next N messages as a JSON list, then delete them
"""
import json
import sys
import time

import boto3


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="test", aws_secret_access_key="test")
    return boto3.client("s3", **kw), boto3.client("sqs", **kw)


def notify(endpoint, bucket, queue):
    s3, sqs = clients(endpoint)
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )


def receive(endpoint, queue, n):
    _, sqs = clients(endpoint)
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    out, deadline = [], time.time() + 20
    while len(out) < n and time.time() < deadline:
        resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in resp.get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            if "s3:TestEvent" in m["Body"]:
                continue
            out.append({"messageId": m["MessageId"], "body": m["Body"]})
    if len(out) < n:
        sys.exit(f"moto_sqs.py: {len(out)} of {n} messages arrived")
    print(json.dumps(out))


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "notify":
        notify(*args)
    elif cmd == "receive":
        receive(args[0], args[1], int(args[2]))
    else:
        sys.exit(__doc__)
