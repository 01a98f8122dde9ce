/*
 * dbenc.h - the value encodings shared by the container and account
 * databases (doc/container-format.md): varints, length-prefixed byte
 * strings and Swift timestamps, plus the timestamp text forms the servers
 * speak (Swift's "internal" form and the listing's isoformat).
 *
 * NEEDSWORK: common/timestamp.h is being written; once it lands, struct
 * db_ts should become its type and the parsers here should go.
 */
#ifndef STORAGE_DBENC_H
#define STORAGE_DBENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A Swift timestamp: 'raw' counts 10 µs ticks since the epoch (Swift's
 * Timestamp.raw), 'offset' is the "_<16 hex>" suffix. Ordered by raw, then
 * offset. The zero value is "0000000000.00000", Swift's "never". */
struct db_ts {
    uint64_t raw;
    uint64_t offset;
};

/* "1700000000.12345_0123456789abcdef" (33) and its NUL, with room */
#define DB_TS_LEN 40
/* "2024-01-02T03:04:05.123450" and its NUL */
#define DB_ISO_LEN 27

/* Parses a timestamp as Swift's Timestamp() accepts it from a header:
 * digits, an optional '.' and up to 5 more digits (more are rejected, not
 * rounded), an optional '_' and 1-16 hex digits. Returns 0 or -EINVAL. */
int db_ts_parse(const char *s, struct db_ts *out);
/* Swift's Timestamp.internal: "%016.05f", "_%016x" if offset is set. */
void db_ts_format(const struct db_ts *ts, char out[DB_TS_LEN]);
/* Swift's Timestamp.isoformat (the offset is not shown). */
void db_ts_isoformat(const struct db_ts *ts, char out[DB_ISO_LEN]);
int db_ts_cmp(const struct db_ts *a, const struct db_ts *b);

/* A DB's replication id: a random (v4) UUID. Returns 0 or -EIO. */
#define DB_ID_LEN 37 /* 36 characters and the NUL */
int db_make_id(char out[DB_ID_LEN]);

/* A growing output buffer; a zeroed struct is empty. After an allocation
 * failure 'err' is -ENOMEM and further puts do nothing. Release with
 * dbenc_release(). */
struct dbenc {
    unsigned char *p;
    size_t len, cap;
    int err;
};

void dbenc_release(struct dbenc *e);
void dbenc_bytes(struct dbenc *e, const void *p, size_t n); /* raw */
void dbenc_u8(struct dbenc *e, unsigned v);
void dbenc_be32(struct dbenc *e, uint32_t v);
void dbenc_be64(struct dbenc *e, uint64_t v);
void dbenc_varint(struct dbenc *e, uint64_t v);
void dbenc_svarint(struct dbenc *e, int64_t v);           /* zigzag */
void dbenc_str(struct dbenc *e, const void *p, size_t n); /* varint len */
void dbenc_ts(struct dbenc *e, const struct db_ts *ts);

/* A reader over borrowed bytes. Reading past the end or a malformed
 * varint sets 'err' to -EINVAL and returns zeroes from then on. */
struct dbdec {
    const unsigned char *p, *end;
    int err;
};

void dbdec_init(struct dbdec *d, const void *p, size_t n);
unsigned dbdec_u8(struct dbdec *d);
uint64_t dbdec_be64(struct dbdec *d);
uint64_t dbdec_varint(struct dbdec *d);
int64_t dbdec_svarint(struct dbdec *d);
/* Sets *p to borrowed bytes in the input, returns their length. */
size_t dbdec_str(struct dbdec *d, const char **p);
/* Like dbdec_str() but returns a malloc()ed NUL-terminated copy, NULL on
 * error (d->err says which: -EINVAL or -ENOMEM). */
char *dbdec_strdup(struct dbdec *d);
void dbdec_ts(struct dbdec *d, struct db_ts *ts);

/* Keys (doc/container-format.md): every key of one container or account
 * DB starts with the partition (4 bytes, big-endian) and the DB's hash
 * (hash_path() of /account[/container], 16 bytes), so a partition is one
 * range and a DB is one range inside it; one byte then says what follows. */
#define DB_KEY_PREFIX_LEN 20
enum db_key_type {
    DB_KEY_INFO = 0x01,  /* names, timestamps, policy, metadata */
    DB_KEY_STATS = 0x02, /* counts, bytes, last row sequence */
    DB_KEY_SYNC = 0x03,  /* + remote id: replication sync points */
    DB_KEY_ROW = 0x10,   /* + name: object or container row */
    DB_KEY_SEQ = 0x11,   /* + be64 sequence: name of the row written then */
};

void db_key_prefix(unsigned char out[DB_KEY_PREFIX_LEN], uint32_t part,
                   const unsigned char hash[16]);

#endif
