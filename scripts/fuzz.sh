#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan/UBSan) in build-fuzz/ and runs
# each for FUZZ_SECONDS (default 10) from a seed corpus (ring and builder
# files made by kura-ring, HTTP requests). A crash, leak, sanitizer report
# or an input that takes over 10 s (a hang) fails the run; the input that
# caused it is left in build-fuzz/ (crash-*, leak-*, timeout-*).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-10}

cmake -S . -B build-fuzz -DKURA_FUZZ=ON -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)"

seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$seeds/ring" "$seeds/builder" "$seeds/objmeta" "$seeds/http"
printf 'Content-Type' > "$seeds/objmeta/seed"
ring=build/tools/kura-ring
$ring "$seeds/a.builder" create 4 2.5 1 >/dev/null
$ring "$seeds/a.builder" add r1z1-10.0.0.1:6200/sda 100 \
    r1z2-10.0.0.2:6200R10.1.0.2:6300/sdb 100 "r2z1-[::1]:6200/sdc_meta" 50 \
    >/dev/null
cp "$seeds/a.builder" "$seeds/builder/unbalanced"
$ring "$seeds/a.builder" rebalance >/dev/null
cp "$seeds/a.builder" "$seeds/builder/balanced"
cp "$seeds/a.ring.gz" "$seeds/ring/"
# fuzz_http_server: a mode byte (0: raw bytes, 1: requests built from the
# bytes), a count of recv() sizes and the sizes, then the input (see the
# target's comment)
printf '\0\0GET /v1/AUTH_test/c/o?format=json&x=%%41 HTTP/1.1\r\nHost: h\r\nX-Auth-Token: AUTH_tk1\r\nX-Echo-A: b\r\n\r\n' \
    >"$seeds/http/get"
printf '\0\3\5\100\1PUT /mid/d1/1/a/c/o HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;e=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n' \
    >"$seeds/http/chunked_put_100_continue"
printf '\0\0GET /a HTTP/1.1\r\n\r\nPUT /stream HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcHEAD /chunk HTTP/1.1\r\n\r\nPOST /early HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nxyGET /endfail HTTP/1.1\r\nConnection: close\r\n\r\n' \
    >"$seeds/http/pipelined"
printf '\1\0\0\3abc\0\141\2o1\2\7\10\1\20abcdefghijklmnopqrstuvwx\33\1x\1\5\0\5HELLO\262\0\0\0\40ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\0\0\0\0' \
    >"$seeds/http/built_pipelined"
printf '\1\0\21\1a\200\50\0\5\21\1b\200\310\0\6\41\1c\200\100\0\7\0\1d\0\0\0\0\0' \
    >"$seeds/http/built_large_bodies"
# fuzz_http_client: a byte for the request (1: HEAD, 2: PUT with
# 100-continue), then the response
mkdir -p "$seeds/client"
printf '\0HTTP/1.1 200 OK\r\nContent-Length: 5\r\nEtag: "abc"\r\n\r\nhello' \
    >"$seeds/client/get"
printf '\0HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nX-T: t\r\n\r\n' \
    >"$seeds/client/chunked"
printf '\2HTTP/1.1 100 Continue\r\nX-Obj-Metadata-Footer: yes\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n' \
    >"$seeds/client/continue"
printf '\1HTTP/1.1 404 Not Found\r\nContent-Length: 70\r\n\r\n' >"$seeds/client/head"
printf '\0HTTP/1.0 200 OK\r\n\r\nuntil close' >"$seeds/client/close"

for target in ring:fuzz_ringfile builder:fuzz_builder_file \
    objmeta:fuzz_objmeta http:fuzz_http_server client:fuzz_http_client; do
    corpus=${target%%:*} exe=build-fuzz/tests/fuzz/${target##*:}
    echo "== fuzzing ${target##*:} for ${seconds}s"
    (cd build-fuzz && "../$exe" -max_total_time="$seconds" -max_len=16384 \
        -timeout=10 -print_final_stats=1 "$seeds/$corpus" 2>&1 | tail -4)
    # libFuzzer exits non-zero on a finding; pipefail carries it out
done

# fuzz_mime_footer: a piece-size byte, then a footer PUT's MIME document
# (boundary "b0undary", as the target expects)
mkdir -p "$seeds/mime"
printf '\7--b0undary\r\nX-Document: object body\r\n\r\nhello\r\n--b0undary\r\nX-Document: object metadata\r\nContent-MD5: 81ffa72513ce6ff70a1c455199c1ada7\r\n\r\n{"Etag": "5d41402abc4b2a76b9719d911017c592"}\r\n--b0undary--\r\n' \
    >"$seeds/mime/doc"
echo "== fuzzing fuzz_mime_footer for ${seconds}s"
(cd build-fuzz && ../build-fuzz/tests/fuzz/fuzz_mime_footer \
    -max_total_time="$seconds" -max_len=16384 -timeout=10 \
    -print_final_stats=1 "$seeds/mime" 2>&1 | tail -4)

# fuzz_s3_xml: a byte picking the parser (low 3 bits: 0 Delete, 1
# CompleteMultipartUpload, 2 CreateBucketConfiguration, 3 Tagging, 4-7 a
# JSON listing; the rest: the limit), then the body
mkdir -p "$seeds/s3xml"
printf '\30<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a&amp;b</Key><VersionId>v</VersionId></Object><Object><Key>c</Key></Object></Delete>' \
    >"$seeds/s3xml/delete"
printf '\31<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"0123456789abcdef0123456789abcdef"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>fedcba9876543210fedcba9876543210</ETag></Part></CompleteMultipartUpload>' \
    >"$seeds/s3xml/complete"
printf '\2<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>' \
    >"$seeds/s3xml/create_bucket"
printf '\123<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>' \
    >"$seeds/s3xml/tagging"
printf '\147[{"name": "a", "hash": "d41d8cd98f00b204e9800998ecf8427e; s3_etag=abc-2", "bytes": 0, "content_type": "text/plain", "last_modified": "2026-12-04T21:59:50.739678"}, {"subdir": "d/"}]' \
    >"$seeds/s3xml/listing"
echo "== fuzzing fuzz_s3_xml for ${seconds}s"
(cd build-fuzz && ../build-fuzz/tests/fuzz/fuzz_s3_xml \
    -max_total_time="$seconds" -max_len=16384 -timeout=10 \
    -print_final_stats=1 "$seeds/s3xml" 2>&1 | tail -4)

# fuzz_s3_chunked: a piece-size byte, a flags byte, six lines
# (Authorization, query, path, X-Amz-Date, x-amz-content-sha256, decoded
# length), then an aws-chunked body (see the target's comment)
mkdir -p "$seeds/s3chunked"
printf '\7\1AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9\n\n/o\n20130524T000000Z\nSTREAMING-AWS4-HMAC-SHA256-PAYLOAD\n5\n5;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\nhello\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n' \
    >"$seeds/s3chunked/header"
printf '\3\0\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%%2F20130524%%2Fus-east-1%%2Fs3%%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\n/test.txt\n\n\n\n' \
    >"$seeds/s3chunked/presigned"
echo "== fuzzing fuzz_s3_chunked for ${seconds}s"
(cd build-fuzz && ../build-fuzz/tests/fuzz/fuzz_s3_chunked \
    -max_total_time="$seconds" -max_len=16384 -timeout=10 \
    -print_final_stats=1 "$seeds/s3chunked" 2>&1 | tail -4)

# fuzz_s3_acl: a byte (even: an AccessControlPolicy body; odd: an
# x-amz-grant-* value, the permission in its other bits), then the input
mkdir -p "$seeds/s3acl"
printf '\0<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>test:tester</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>test2:tester2</ID></Grantee><Permission>READ</Permission></Grant><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>' \
    >"$seeds/s3acl/policy"
printf '\1id="test2:tester2", uri="http://acs.amazonaws.com/groups/global/AllUsers"' \
    >"$seeds/s3acl/header"
echo "== fuzzing fuzz_s3_acl for ${seconds}s"
(cd build-fuzz && ../build-fuzz/tests/fuzz/fuzz_s3_acl \
    -max_total_time="$seconds" -max_len=16384 -timeout=10 \
    -print_final_stats=1 "$seeds/s3acl" 2>&1 | tail -4)

# fuzz_s3_lifecycle: a LifecycleConfiguration body
mkdir -p "$seeds/s3lifecycle"
printf '<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule><Rule><ID>tmp</ID><Prefix>tmp/</Prefix><Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule></LifecycleConfiguration>' \
    >"$seeds/s3lifecycle/rules"
printf '<LifecycleConfiguration><Rule><Filter><And><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>' \
    >"$seeds/s3lifecycle/unsupported"
echo "== fuzzing fuzz_s3_lifecycle for ${seconds}s"
(cd build-fuzz && ../build-fuzz/tests/fuzz/fuzz_s3_lifecycle \
    -max_total_time="$seconds" -max_len=16384 -timeout=10 \
    -print_final_stats=1 "$seeds/s3lifecycle" 2>&1 | tail -4)

# fuzz_s3_cors: a CORSConfiguration body (its last 64 bytes also serve as
# the origin and header list matched against what it accepts)
mkdir -p "$seeds/s3cors"
printf '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><ID>app</ID><AllowedOrigin>https://*.app.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule></CORSConfiguration>' \
    >"$seeds/s3cors/rules"
printf '<CORSConfiguration><CORSRule><AllowedOrigin>*.a.*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>' \
    >"$seeds/s3cors/invalid"
echo "== fuzzing fuzz_s3_cors for ${seconds}s"
(cd build-fuzz && ../build-fuzz/tests/fuzz/fuzz_s3_cors \
    -max_total_time="$seconds" -max_len=16384 -timeout=10 \
    -print_final_stats=1 "$seeds/s3cors" 2>&1 | tail -4)
