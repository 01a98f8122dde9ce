"""Multipart uploads for the S3 tests: the smallest that has parts of both
kinds."""

import os

MIB = 1024 * 1024


def multipart_put(s3, bucket, key):
    """A completed multipart upload through boto3 client 's3' (one 5 MiB
    part, S3's minimum, and a 1-byte last part): its body and upload
    id."""
    body = os.urandom(5 * MIB) + b'z'
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)['UploadId']
    parts = []
    for n, data in ((1, body[:-1]), (2, body[-1:])):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid,
                           PartNumber=n, Body=data)
        parts.append({'PartNumber': n, 'ETag': r['ETag']})
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                 MultipartUpload={'Parts': parts})
    return body, uid
