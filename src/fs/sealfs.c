/*
 * sealfs.c - a sealed directory tree over one storage container (see
 * sealfs.h; the format and what it protects: docs/filesystem.md).
 *
 * Objects of a volume's container (keys are sealed, so none of this is
 * visible on disk):
 *   "s"             the superblock: next inode number, and chunk ranges
 *                   still to delete (a crash in a long delete resumes)
 *   "i<ino>"        an inode: type, size, times; a directory's inode also
 *                   holds its entries (name, inode, type, cookie)
 *   "c<ino>.<idx>"  bytes [idx*64 KiB, (idx+1)*64 KiB) of a file; missing
 *                   within the size: a hole, read as zeros
 * Every object is padded with zeros to a power of two (inodes from 512
 * bytes, data from 4 KiB), so the store's sizes show little of the real
 * ones.  Bytes past a file's size are always zero in its chunks.
 *
 * The store authenticates each object, binds it to its key (so to its
 * inode and chunk index) and to its version, and MACs the container's
 * whole object set: a chunk swapped, moved, truncated, deleted, replayed
 * or rolled back is an integrity error there, never data here.
 *
 * Write-back.  Inodes and chunks are cached; changes stay in memory until
 * a write-back, which happens on ehal_sfs_sync, when too much is dirty
 * (FLUSH_*), and on close.  A write-back is one store batch (an atomic
 * commit) whenever it fits one, which the thresholds see to; only a delete
 * of more chunks than a batch holds continues in further batches, each
 * recording in the superblock what is left.  So after a crash the volume
 * is the state of some moment between two calls, complete.
 */
#include "sealfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/byteorder.h"

#define SB_KEY "s"
#define INODE_PAD_MIN 512u
#define DATA_PAD_MIN 4096u
#define INODE_HDR 64u
#define DIRENT_HDR 19u
#define SB_HDR 16u
#define DIR_MAX_BYTES ((4u << 20) - INODE_HDR) /* a directory's entries: 4 MiB sealed */
#define FLUSH_DIRS 4u     /* dirty directories: 16 MiB at most, so a write-back fits a batch */
#define CACHE_CHUNKS 512u /* cached file data: 32 MiB */
#define FLUSH_CHUNKS 256u /* write back at 16 MiB of dirty data */
#define FLUSH_OPS 512u    /* or this many other changes */
#define BATCH_OPS (EHAL_STORE_APPLY_MAX - 1) /* one op stays for the superblock */
#define NO_SLOT UINT32_MAX

typedef struct {
  char *name;
  uint16_t len;
  uint8_t type;
  bool dead;
  uint64_t ino, seq;
} dirent_t;

typedef struct inode {
  uint64_t ino;
  uint8_t type;
  uint64_t size, atim, mtim, ctim;
  bool dirty, on_disk, unlinked, pending; /* pending: chunk ranges to delete */
  uint32_t holds;
  /* files: chunk indices below hwm may be in the store (above: never
   * written), so deletes stop there whatever the size says */
  uint64_t hwm;
  struct inode *dprev, *dnext; /* the list of dirty inodes */
  /* directories */
  uint64_t parent, next_seq;
  dirent_t *ents; /* in cookie (seq) order, dead ones until compacted */
  uint32_t n, cap, live;
  uint32_t *slots; /* hash of names -> index in ents */
  uint32_t nslots;
  size_t dbytes; /* serialized size of the live entries */
  struct inode *hnext;
} inode;

typedef struct chunk {
  uint64_t ino, idx;
  uint8_t *data; /* EHAL_SFS_CHUNK bytes */
  bool dirty;
  struct chunk *hnext, *prev, *next; /* hash chain; LRU list, newest first */
} chunk;

typedef struct {
  uint64_t ino, from, to; /* chunk indices [from, to) to delete */
} range;

struct ehal_sfs {
  ehal_store *s;
  ehal_store_container *c;
  bool unsynced;    /* committed since the last durable write-back */
  uint64_t version; /* the container's, as this volume last saw or made it */
  uint64_t next_ino;
  inode **itab;
  size_t icap, icount, idirty, ddirty; /* dirty inodes, of them directories */
  inode *dirty_head;
  chunk **ctab;
  size_t ccap, ccount, cdirty;
  chunk *lru_head, *lru_tail;
  uint64_t *dead; /* inode objects to delete */
  size_t ndead, deadcap;
  range *pend;
  size_t npend, pendcap;
  uint64_t pend_chunks;
  char msg[sizeof(ehal_store_err){0}.msg];
};

/* ---- small helpers ---- */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t nchunks(uint64_t size) { return (size + EHAL_SFS_CHUNK - 1) / EHAL_SFS_CHUNK; }

static size_t pad_to(size_t n, size_t min) {
  size_t p = min;
  while (p < n) p *= 2;
  return p;
}

static uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull + (a << 6));
  return h ^ (h >> 29);
}

static uint32_t name_hash(const char *s, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static int store_fail(ehal_sfs *fs, const ehal_store_err *e) {
  snprintf(fs->msg, sizeof fs->msg, "%s", e->msg);
  if (e->code == EHAL_STORE_LIMIT)
    return strstr(e->msg, "quota") ? EHAL_SFS_EDQUOT : EHAL_SFS_ENOSPC;
  return EHAL_SFS_EIO;
}

static int corrupt(ehal_sfs *fs, const char *what, uint64_t ino) {
  snprintf(fs->msg, sizeof fs->msg, "integrity error: sealed directory '%s': %s (inode %llu)",
           ehal_store_container_name(fs->c) + sizeof EHAL_STORE_VOLUME_PREFIX - 1, what,
           (unsigned long long)ino);
  return EHAL_SFS_EIO;
}

static void inode_key(char *k, uint64_t ino) { sprintf(k, "i%llx", (unsigned long long)ino); }
static void chunk_key(char *k, uint64_t ino, uint64_t idx) {
  sprintf(k, "c%llx.%llx", (unsigned long long)ino, (unsigned long long)idx);
}
#define KEY_LEN 40

static void *alloc_heap(void *user, size_t n) { return (void)user, malloc(n); }
/* a chunk is read straight into the cache's buffer (user) */
static void *alloc_chunk(void *user, size_t n) { return n <= EHAL_SFS_CHUNK ? user : NULL; }

/* ---- inode table ---- */

static inode **ibucket(ehal_sfs *fs, uint64_t ino) {
  return &fs->itab[mix(ino, 0) & (fs->icap - 1)];
}

static inode *ifind(ehal_sfs *fs, uint64_t ino) {
  for (inode *ip = *ibucket(fs, ino); ip; ip = ip->hnext)
    if (ip->ino == ino) return ip;
  return NULL;
}

static int iinsert(ehal_sfs *fs, inode *ip) {
  if (fs->icount + 1 > fs->icap / 4 * 3) {
    size_t ncap = fs->icap * 2;
    inode **nt = calloc(ncap, sizeof *nt);
    if (!nt) return EHAL_SFS_ENOMEM;
    inode **old = fs->itab;
    size_t ocap = fs->icap;
    fs->itab = nt;
    fs->icap = ncap;
    for (size_t i = 0; i < ocap; i++)
      for (inode *p = old[i], *nx; p; p = nx) {
        nx = p->hnext;
        inode **b = ibucket(fs, p->ino);
        p->hnext = *b;
        *b = p;
      }
    free(old);
  }
  inode **b = ibucket(fs, ip->ino);
  ip->hnext = *b;
  *b = ip;
  fs->icount++;
  return 0;
}

static void inode_free(inode *ip) {
  if (!ip) return;
  for (uint32_t i = 0; i < ip->n; i++) free(ip->ents[i].name);
  free(ip->ents);
  free(ip->slots);
  free(ip);
}

static void mark_clean(ehal_sfs *fs, inode *ip);

static void iremove(ehal_sfs *fs, inode *ip) {
  for (inode **pp = ibucket(fs, ip->ino); *pp; pp = &(*pp)->hnext)
    if (*pp == ip) {
      *pp = ip->hnext;
      fs->icount--;
      break;
    }
  mark_clean(fs, ip);
  inode_free(ip);
}

static void mark_dirty(ehal_sfs *fs, inode *ip) {
  if (ip->unlinked || ip->dirty) return; /* open but unlinked: never written again */
  ip->dirty = true;
  fs->idirty++;
  fs->ddirty += ip->type == EHAL_SFS_DIR;
  ip->dprev = NULL;
  ip->dnext = fs->dirty_head;
  if (fs->dirty_head) fs->dirty_head->dprev = ip;
  fs->dirty_head = ip;
}

static void mark_clean(ehal_sfs *fs, inode *ip) {
  if (!ip->dirty) return;
  ip->dirty = false;
  fs->idirty--;
  fs->ddirty -= ip->type == EHAL_SFS_DIR;
  if (ip->dprev)
    ip->dprev->dnext = ip->dnext;
  else
    fs->dirty_head = ip->dnext;
  if (ip->dnext) ip->dnext->dprev = ip->dprev;
  ip->dprev = ip->dnext = NULL;
}

/* ---- directory entries ---- */

static dirent_t *dir_find(inode *d, const char *name, size_t len) {
  if (!d->nslots) return NULL;
  uint32_t mask = d->nslots - 1;
  for (uint32_t i = name_hash(name, len) & mask;; i = (i + 1) & mask) {
    uint32_t s = d->slots[i];
    if (s == NO_SLOT) return NULL;
    dirent_t *en = &d->ents[s];
    if (!en->dead && en->len == len && !memcmp(en->name, name, len)) return en;
  }
}

/* Drops dead entries and rebuilds the name index with room for `want`
 * entries (order, hence cookies, unchanged). */
static int dir_reindex(inode *d, uint32_t want) {
  uint32_t ns = 16;
  while (ns < want * 2) ns *= 2;
  uint32_t *slots = malloc(ns * sizeof *slots); /* first: a failure changes nothing */
  if (!slots) return EHAL_SFS_ENOMEM;
  uint32_t n = 0;
  for (uint32_t i = 0; i < d->n; i++) {
    if (d->ents[i].dead)
      free(d->ents[i].name);
    else
      d->ents[n++] = d->ents[i];
  }
  d->n = n;
  memset(slots, 0xff, ns * sizeof *slots);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t h = name_hash(d->ents[i].name, d->ents[i].len) & (ns - 1);
    while (slots[h] != NO_SLOT) h = (h + 1) & (ns - 1);
    slots[h] = i;
  }
  free(d->slots);
  d->slots = slots;
  d->nslots = ns;
  return 0;
}

static int dir_add(ehal_sfs *fs, inode *d, const char *name, size_t len, uint64_t ino,
                   uint8_t type) {
  if (d->live >= EHAL_SFS_DIR_MAX || d->dbytes + DIRENT_HDR + len > DIR_MAX_BYTES)
    return EHAL_SFS_ENOSPC;
  if (d->n + 1 > d->cap) {
    uint32_t cap = d->cap ? d->cap * 2 : 8;
    dirent_t *ne = realloc(d->ents, cap * sizeof *ne);
    if (!ne) return EHAL_SFS_ENOMEM;
    d->ents = ne;
    d->cap = cap;
  }
  /* the index holds dead entries too: rebuild it before it fills */
  if ((d->n + 1) * 2 > d->nslots && dir_reindex(d, d->live + 1 > 8 ? d->live + 1 : 8))
    return EHAL_SFS_ENOMEM;
  char *nm = malloc(len ? len : 1);
  if (!nm) return EHAL_SFS_ENOMEM;
  memcpy(nm, name, len);
  dirent_t *en = &d->ents[d->n];
  *en = (dirent_t){nm, (uint16_t)len, type, false, ino, d->next_seq++};
  uint32_t mask = d->nslots - 1, h = name_hash(name, len) & mask;
  while (d->slots[h] != NO_SLOT) h = (h + 1) & mask;
  d->slots[h] = d->n++;
  d->live++;
  d->dbytes += DIRENT_HDR + len;
  d->size = d->live;
  d->mtim = d->ctim = now_ns();
  mark_dirty(fs, d);
  return 0;
}

static void dir_del(ehal_sfs *fs, inode *d, dirent_t *en) {
  en->dead = true;
  d->live--;
  d->dbytes -= DIRENT_HDR + en->len;
  d->size = d->live;
  d->mtim = d->ctim = now_ns();
  mark_dirty(fs, d);
  if (d->n > 64 && d->n > 2 * d->live) dir_reindex(d, d->live); /* on failure: kept as is */
}

/* ---- (de)serializing ---- */

static uint8_t *inode_encode(const inode *ip, size_t *len) {
  size_t raw = INODE_HDR + (ip->type == EHAL_SFS_DIR ? ip->dbytes : 0);
  size_t n = pad_to(raw, INODE_PAD_MIN);
  uint8_t *b = calloc(1, n);
  if (!b) return NULL;
  memcpy(b, "SFI1", 4);
  b[4] = ip->type;
  ehal_put_u64(b + 8, ip->size);
  ehal_put_u64(b + 16, ip->atim);
  ehal_put_u64(b + 24, ip->mtim);
  ehal_put_u64(b + 32, ip->ctim);
  ehal_put_u64(b + 40, ip->parent);
  ehal_put_u64(b + 48, ip->next_seq);
  if (ip->type == EHAL_SFS_DIR)
    ehal_put_u32(b + 56, ip->live);
  else
    ehal_put_u64(b + 56, ip->hwm); /* files: the chunk high-water mark */
  uint8_t *p = b + INODE_HDR;
  for (uint32_t i = 0; ip->type == EHAL_SFS_DIR && i < ip->n; i++) {
    const dirent_t *en = &ip->ents[i];
    if (en->dead) continue;
    ehal_put_u64(p, en->ino);
    ehal_put_u64(p + 8, en->seq);
    p[16] = en->type;
    ehal_put_u16(p + 17, en->len);
    memcpy(p + DIRENT_HDR, en->name, en->len);
    p += DIRENT_HDR + en->len;
  }
  *len = n;
  return b;
}

/* What the store returned was written by this code and authenticated;
 * it is still parsed as if it were not. */
static int inode_decode(ehal_sfs *fs, uint64_t ino, const uint8_t *b, size_t len, inode **out) {
  if (len < INODE_HDR || memcmp(b, "SFI1", 4) || (b[4] != EHAL_SFS_DIR && b[4] != EHAL_SFS_FILE))
    return corrupt(fs, "malformed inode", ino);
  inode *ip = calloc(1, sizeof *ip);
  if (!ip) return EHAL_SFS_ENOMEM;
  ip->ino = ino;
  ip->type = b[4];
  ip->size = ehal_get_u64(b + 8);
  ip->atim = ehal_get_u64(b + 16);
  ip->mtim = ehal_get_u64(b + 24);
  ip->ctim = ehal_get_u64(b + 32);
  ip->parent = ehal_get_u64(b + 40);
  ip->next_seq = ehal_get_u64(b + 48);
  ip->on_disk = true;
  uint32_t n = ip->type == EHAL_SFS_DIR ? ehal_get_u32(b + 56) : 0;
  int rc = 0;
  if (ip->type == EHAL_SFS_FILE) {
    ip->hwm = ehal_get_u64(b + 56);
    if (ip->size > EHAL_SFS_MAX_FILE || ip->hwm > nchunks(EHAL_SFS_MAX_FILE))
      rc = corrupt(fs, "malformed inode", ino);
  } else if (n > EHAL_SFS_DIR_MAX) {
    rc = corrupt(fs, "malformed directory", ino);
  } else if ((ip->ents = calloc(n ? n : 1, sizeof *ip->ents)) == NULL) {
    rc = EHAL_SFS_ENOMEM;
  } else {
    ip->cap = n ? n : 1;
    size_t off = INODE_HDR;
    for (uint32_t i = 0; i < n && !rc; i++) {
      if (len - off < DIRENT_HDR) {
        rc = corrupt(fs, "malformed directory", ino);
        break;
      }
      const uint8_t *p = b + off;
      uint16_t nl = ehal_get_u16(p + 17);
      uint64_t seq = ehal_get_u64(p + 8);
      if (nl == 0 || nl > EHAL_SFS_NAME_MAX || len - off - DIRENT_HDR < nl ||
          (p[16] != EHAL_SFS_DIR && p[16] != EHAL_SFS_FILE) || seq < 3 || seq >= ip->next_seq ||
          (i && seq <= ip->ents[i - 1].seq) || memchr(p + DIRENT_HDR, '/', nl) ||
          memchr(p + DIRENT_HDR, 0, nl)) {
        rc = corrupt(fs, "malformed directory", ino);
        break;
      }
      char *nm = malloc(nl);
      if (!nm) {
        rc = EHAL_SFS_ENOMEM;
        break;
      }
      memcpy(nm, p + DIRENT_HDR, nl);
      ip->ents[ip->n++] = (dirent_t){nm, nl, p[16], false, ehal_get_u64(p), seq};
      ip->dbytes += DIRENT_HDR + nl;
      off += DIRENT_HDR + nl;
    }
    ip->live = ip->n;
    if (!rc && dir_reindex(ip, ip->n > 8 ? ip->n : 8)) rc = EHAL_SFS_ENOMEM;
    /* a name twice would make lookups ambiguous */
    for (uint32_t i = 0; !rc && i < ip->n; i++)
      if (dir_find(ip, ip->ents[i].name, ip->ents[i].len) != &ip->ents[i])
        rc = corrupt(fs, "a name twice in a directory", ino);
  }
  if (rc) {
    inode_free(ip);
    return rc;
  }
  *out = ip;
  return 0;
}

static uint8_t *sb_encode(const ehal_sfs *fs, size_t *len) {
  size_t n = pad_to(SB_HDR + fs->npend * 24, INODE_PAD_MIN);
  uint8_t *b = calloc(1, n);
  if (!b) return NULL;
  memcpy(b, "SFS1", 4);
  ehal_put_u32(b + 4, (uint32_t)fs->npend);
  ehal_put_u64(b + 8, fs->next_ino);
  for (size_t i = 0; i < fs->npend; i++) {
    ehal_put_u64(b + SB_HDR + 24 * i, fs->pend[i].ino);
    ehal_put_u64(b + SB_HDR + 24 * i + 8, fs->pend[i].from);
    ehal_put_u64(b + SB_HDR + 24 * i + 16, fs->pend[i].to);
  }
  *len = n;
  return b;
}

static int pend_add(ehal_sfs *fs, uint64_t ino, uint64_t from, uint64_t to) {
  if (from >= to) return 0;
  if (fs->npend == fs->pendcap) {
    size_t cap = fs->pendcap ? fs->pendcap * 2 : 16;
    range *np = realloc(fs->pend, cap * sizeof *np);
    if (!np) return EHAL_SFS_ENOMEM;
    fs->pend = np;
    fs->pendcap = cap;
  }
  fs->pend[fs->npend++] = (range){ino, from, to};
  fs->pend_chunks += to - from;
  inode *ip = ifind(fs, ino);
  if (ip) ip->pending = true;
  return 0;
}

/* Chunks [from, to) of ino to delete.  A range far larger than what a
 * file can hold in the store (a sparse file: one byte written at 16 TiB
 * makes a range of 2^28) is not walked index by index: the container's
 * objects are listed once and only the chunks that exist are queued. */
#define RANGE_LIST_OVER 4096u

typedef struct {
  ehal_sfs *fs;
  uint64_t ino, from, to;
  int rc;
} range_scan;

static bool pend_covers(const ehal_sfs *fs, uint64_t ino, uint64_t idx) {
  for (size_t i = 0; i < fs->npend; i++)
    if (fs->pend[i].ino == ino && idx >= fs->pend[i].from && idx < fs->pend[i].to) return true;
  return false;
}

static int scan_chunk(void *user, const char *key, size_t keylen, const ehal_store_meta *meta) {
  (void)meta;
  range_scan *r = user;
  char want[KEY_LEN];
  int wl = snprintf(want, sizeof want, "c%llx.", (unsigned long long)r->ino);
  if (keylen <= (size_t)wl || keylen >= KEY_LEN || memcmp(key, want, (size_t)wl)) return 0;
  char num[KEY_LEN];
  memcpy(num, key + wl, keylen - (size_t)wl);
  num[keylen - (size_t)wl] = 0;
  char *end;
  unsigned long long idx = strtoull(num, &end, 16);
  if (*end || idx < r->from || idx >= r->to || pend_covers(r->fs, r->ino, idx)) return 0;
  r->rc = pend_add(r->fs, r->ino, idx, idx + 1);
  return r->rc != 0;
}

static int pend_add_stored(ehal_sfs *fs, uint64_t ino, uint64_t from, uint64_t to) {
  if (to <= from || to - from <= RANGE_LIST_OVER) return pend_add(fs, ino, from, to);
  range_scan r = {fs, ino, from, to, 0};
  char next[EHAL_STORE_CURSOR_LEN + 1];
  ehal_store_err e;
  if (ehal_store_list(fs->c, "", 0, 0, scan_chunk, &r, next, &e)) return store_fail(fs, &e);
  return r.rc;
}

static int sb_decode(ehal_sfs *fs, const uint8_t *b, size_t len) {
  if (len < SB_HDR || memcmp(b, "SFS1", 4)) return corrupt(fs, "malformed superblock", 0);
  uint32_t n = ehal_get_u32(b + 4);
  if ((len - SB_HDR) / 24 < n) return corrupt(fs, "malformed superblock", 0);
  fs->next_ino = ehal_get_u64(b + 8);
  if (fs->next_ino <= EHAL_SFS_ROOT) return corrupt(fs, "malformed superblock", 0);
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *p = b + SB_HDR + 24 * (size_t)i;
    uint64_t from = ehal_get_u64(p + 8), to = ehal_get_u64(p + 16);
    if (to > nchunks(EHAL_SFS_MAX_FILE)) return corrupt(fs, "malformed superblock", 0);
    int rc = pend_add(fs, ehal_get_u64(p), from, to);
    if (rc) return rc;
  }
  return 0;
}

/* ---- chunk cache ---- */

static chunk **cbucket(ehal_sfs *fs, uint64_t ino, uint64_t idx) {
  return &fs->ctab[mix(ino, idx) & (fs->ccap - 1)];
}

static chunk *cfind(ehal_sfs *fs, uint64_t ino, uint64_t idx) {
  for (chunk *ch = *cbucket(fs, ino, idx); ch; ch = ch->hnext)
    if (ch->ino == ino && ch->idx == idx) return ch;
  return NULL;
}

static void lru_unlink(ehal_sfs *fs, chunk *ch) {
  if (ch->prev)
    ch->prev->next = ch->next;
  else
    fs->lru_head = ch->next;
  if (ch->next)
    ch->next->prev = ch->prev;
  else
    fs->lru_tail = ch->prev;
  ch->prev = ch->next = NULL;
}

static void lru_push(ehal_sfs *fs, chunk *ch) {
  ch->next = fs->lru_head;
  ch->prev = NULL;
  if (fs->lru_head) fs->lru_head->prev = ch;
  fs->lru_head = ch;
  if (!fs->lru_tail) fs->lru_tail = ch;
}

static void cdrop(ehal_sfs *fs, chunk *ch) {
  for (chunk **pp = cbucket(fs, ch->ino, ch->idx); *pp; pp = &(*pp)->hnext)
    if (*pp == ch) {
      *pp = ch->hnext;
      break;
    }
  lru_unlink(fs, ch);
  if (ch->dirty) fs->cdirty--;
  fs->ccount--;
  free(ch->data);
  free(ch);
}

/* Drops the cached chunks of ino from index `from` on (their changes too). */
static void cdrop_from(ehal_sfs *fs, uint64_t ino, uint64_t from) {
  for (chunk *ch = fs->lru_head, *nx; ch; ch = nx) {
    nx = ch->next;
    if (ch->ino == ino && ch->idx >= from) cdrop(fs, ch);
  }
}

static int flush(ehal_sfs *fs, bool durable);

/* Chunk idx of ino from the store into out (EHAL_SFS_CHUNK bytes): a
 * missing chunk is a hole, zeros; past what the store holds, zeros. */
static int chunk_read(ehal_sfs *fs, uint64_t ino, uint64_t idx, uint8_t *out) {
  char key[KEY_LEN];
  chunk_key(key, ino, idx);
  ehal_store_err e;
  uint8_t *got = NULL;
  size_t n = 0;
  ehal_store_status st =
      ehal_store_get(fs->c, key, strlen(key), alloc_chunk, out, &got, &n, NULL, &e);
  if (st != EHAL_STORE_OK && st != EHAL_STORE_NOTFOUND) return store_fail(fs, &e);
  if (st == EHAL_STORE_NOTFOUND) n = 0;
  memset(out + n, 0, EHAL_SFS_CHUNK - n);
  return 0;
}

/* Chunk idx of file ip, cached; loaded from the store when load is set
 * (else zeros: the caller overwrites all of it, or it lies past the end). */
static int chunk_get(ehal_sfs *fs, inode *ip, uint64_t idx, bool load, chunk **out) {
  chunk *ch = cfind(fs, ip->ino, idx);
  if (ch) {
    lru_unlink(fs, ch);
    lru_push(fs, ch);
    *out = ch;
    return 0;
  }
  ch = fs->ccount >= CACHE_CHUNKS ? fs->lru_tail : NULL;
  while (ch && ch->dirty) ch = ch->prev;
  if (fs->ccount >= CACHE_CHUNKS && !ch) { /* all dirty (settle keeps this from happening) */
    int rc = flush(fs, false);
    if (rc) return rc;
    ch = fs->lru_tail;
  }
  uint8_t *data = NULL;
  if (ch) { /* the least recently used clean chunk's memory is reused */
    data = ch->data;
    ch->data = NULL;
    cdrop(fs, ch);
  } else if ((data = malloc(EHAL_SFS_CHUNK)) == NULL) {
    return EHAL_SFS_ENOMEM;
  }
  int rc = load ? chunk_read(fs, ip->ino, idx, data) : (memset(data, 0, EHAL_SFS_CHUNK), 0);
  if (rc) {
    free(data);
    return rc;
  }
  if ((ch = calloc(1, sizeof *ch)) == NULL) {
    free(data);
    return EHAL_SFS_ENOMEM;
  }
  ch->ino = ip->ino;
  ch->idx = idx;
  ch->data = data;
  chunk **b = cbucket(fs, ip->ino, idx);
  ch->hnext = *b;
  *b = ch;
  lru_push(fs, ch);
  fs->ccount++;
  *out = ch;
  return 0;
}

/* ---- write-back ---- */

typedef struct {
  ehal_store_op *ops;
  char (*keys)[KEY_LEN];
  uint8_t **bufs; /* encoded inodes and superblock, freed after the batch */
  void **done;    /* what each op makes clean: a chunk or inode (NULL: none) */
  bool *is_chunk;
  size_t n, nbufs;
  uint64_t bytes;
} batch;

static bool batch_room(const batch *b, size_t len) {
  return b->n < BATCH_OPS && b->bytes + len <= EHAL_STORE_APPLY_MAX_BYTES - (1u << 20);
}

static void batch_put(batch *b, const char *key, const uint8_t *data, size_t len, void *what,
                      bool is_chunk) {
  snprintf(b->keys[b->n], KEY_LEN, "%s", key);
  b->ops[b->n] =
      (ehal_store_op){.key = b->keys[b->n], .keylen = strlen(key), .data = data, .len = len};
  b->done[b->n] = what;
  b->is_chunk[b->n] = is_chunk;
  b->bytes += len;
  b->n++;
}

static void batch_del(batch *b, const char *key) {
  snprintf(b->keys[b->n], KEY_LEN, "%s", key);
  b->ops[b->n] =
      (ehal_store_op){.key = b->keys[b->n], .keylen = strlen(key), .del = true, .if_present = true};
  b->done[b->n] = NULL;
  b->n++;
}

/* One batch: as many dirty chunks, then inodes, then inode deletes, then
 * chunk deletes as fit, and the superblock as it will be after it.
 * *more: something is left for another batch. */
static int flush_batch(ehal_sfs *fs, batch *b, bool *more) {
  b->n = b->nbufs = 0;
  b->bytes = 0;
  *more = false;
  char key[KEY_LEN];
  for (chunk *ch = fs->lru_head; ch; ch = ch->next) {
    if (!ch->dirty) continue;
    inode *ip = ifind(fs, ch->ino);
    uint64_t at = ch->idx * EHAL_SFS_CHUNK;
    size_t end = ip && ip->size > at
                     ? (ip->size - at < EHAL_SFS_CHUNK ? (size_t)(ip->size - at) : EHAL_SFS_CHUNK)
                     : 0;
    /* past the end is zero on disk, whatever a shrink in progress left */
    memset(ch->data + end, 0, EHAL_SFS_CHUNK - end);
    size_t len = pad_to(end, DATA_PAD_MIN);
    if (!batch_room(b, len)) {
      *more = true;
      break;
    }
    chunk_key(key, ch->ino, ch->idx);
    batch_put(b, key, ch->data, len, ch, true);
  }
  for (inode *ip = fs->dirty_head; ip && !*more; ip = ip->dnext) {
    size_t len;
    uint8_t *enc = inode_encode(ip, &len);
    if (!enc) {
      for (size_t i = 0; i < b->nbufs; i++) free(b->bufs[i]);
      return EHAL_SFS_ENOMEM;
    }
    if (!batch_room(b, len)) {
      free(enc);
      *more = true;
      break;
    }
    b->bufs[b->nbufs++] = enc;
    inode_key(key, ip->ino);
    batch_put(b, key, enc, len, ip, false);
  }
  size_t dels = 0;
  for (; dels < fs->ndead && !*more; dels++) {
    if (!batch_room(b, 0)) {
      *more = true;
      break;
    }
    inode_key(key, fs->dead[dels]);
    batch_del(b, key);
  }
  /* chunk ranges: taken from the back, so the list only shrinks */
  range *saved = NULL;
  size_t nsaved = fs->npend;
  if (fs->npend && (saved = malloc(fs->npend * sizeof *saved)) == NULL) {
    for (size_t i = 0; i < b->nbufs; i++) free(b->bufs[i]);
    return EHAL_SFS_ENOMEM;
  }
  if (saved) memcpy(saved, fs->pend, fs->npend * sizeof *saved);
  uint64_t taken = 0;
  while (!*more && fs->npend) {
    range *r = &fs->pend[fs->npend - 1];
    if (!batch_room(b, 0)) {
      *more = true;
      break;
    }
    chunk_key(key, r->ino, --r->to);
    batch_del(b, key);
    taken++;
    if (r->from == r->to) fs->npend--;
  }
  fs->pend_chunks -= taken;
  size_t sblen;
  uint8_t *sb = sb_encode(fs, &sblen);
  int rc = 0;
  if (!sb) {
    rc = EHAL_SFS_ENOMEM;
  } else {
    b->bufs[b->nbufs++] = sb;
    batch_put(b, SB_KEY, sb, sblen, NULL, false);
    ehal_store_err e;
    if (ehal_store_apply_at(fs->c, fs->version, b->ops, b->n, &fs->version, &e))
      rc = store_fail(fs, &e);
  }
  for (size_t i = 0; i < b->nbufs; i++) free(b->bufs[i]);
  if (rc) { /* nothing happened: the ranges are as they were */
    if (saved) memcpy(fs->pend, saved, nsaved * sizeof *saved);
    fs->npend = nsaved;
    fs->pend_chunks += taken;
    free(saved);
    return rc;
  }
  free(saved);
  for (size_t i = 0; i < b->n; i++) {
    if (!b->done[i]) continue;
    if (b->is_chunk[i]) {
      chunk *ch = b->done[i];
      ch->dirty = false;
      fs->cdirty--;
    } else {
      inode *ip = b->done[i];
      mark_clean(fs, ip);
      ip->on_disk = true;
    }
  }
  if (dels) memmove(fs->dead, fs->dead + dels, (fs->ndead - dels) * sizeof *fs->dead);
  fs->ndead -= dels;
  if (!fs->npend)
    for (size_t i = 0; i < fs->icap; i++)
      for (inode *ip = fs->itab[i]; ip; ip = ip->hnext) ip->pending = false;
  return 0;
}

/* Writes back everything cached.  durable: it survives a power cut when
 * this returns (as does everything committed before); otherwise a crash of
 * the process, until the next durable write-back. */
static int flush(ehal_sfs *fs, bool durable) {
  bool dirty = fs->cdirty || fs->idirty || fs->ndead || fs->npend;
  /* nothing dirty but something unsynced: the superblock alone, a commit
   * that syncs what went before */
  if (!dirty && !(durable && fs->unsynced)) return 0;
  if (ehal_store_set_durable(fs->s, durable) != 0) {
    snprintf(fs->msg, sizeof fs->msg, "storage error: cannot set the store's durability");
    return EHAL_SFS_EIO;
  }
  batch b = {0};
  b.ops = malloc(EHAL_STORE_APPLY_MAX * sizeof *b.ops);
  b.keys = malloc(EHAL_STORE_APPLY_MAX * sizeof *b.keys);
  b.bufs = malloc(EHAL_STORE_APPLY_MAX * sizeof *b.bufs);
  b.done = malloc(EHAL_STORE_APPLY_MAX * sizeof *b.done);
  b.is_chunk = malloc(EHAL_STORE_APPLY_MAX * sizeof *b.is_chunk);
  int rc = 0;
  if (!b.ops || !b.keys || !b.bufs || !b.done || !b.is_chunk) rc = EHAL_SFS_ENOMEM;
  for (bool more = true; !rc && more;) rc = flush_batch(fs, &b, &more);
  if (!rc) fs->unsynced = !durable;
  free(b.ops);
  free(b.keys);
  free(b.bufs);
  free(b.done);
  free(b.is_chunk);
  return rc;
}

/* Before a change: write back if enough is dirty, so that what a call
 * changes fits the next batch (and a failure here changes nothing). */
static int settle(ehal_sfs *fs) {
  if (fs->cdirty >= FLUSH_CHUNKS || fs->ddirty >= FLUSH_DIRS ||
      fs->idirty + fs->ndead + fs->pend_chunks >= FLUSH_OPS)
    return flush(fs, false);
  return 0;
}

/* ---- inodes ---- */

static int iget(ehal_sfs *fs, uint64_t ino, inode **out) {
  inode *ip = ifind(fs, ino);
  if (ip) {
    *out = ip;
    return 0;
  }
  /* removed, its delete not written back yet: gone, not reloaded */
  for (size_t i = 0; i < fs->ndead; i++)
    if (fs->dead[i] == ino) return EHAL_SFS_ENOENT;
  char key[KEY_LEN];
  inode_key(key, ino);
  ehal_store_err e;
  uint8_t *b = NULL;
  size_t n = 0;
  ehal_store_status st =
      ehal_store_get(fs->c, key, strlen(key), alloc_heap, NULL, &b, &n, NULL, &e);
  int rc;
  if (st == EHAL_STORE_NOTFOUND)
    rc = corrupt(fs, "a directory names an inode that does not exist", ino);
  else if (st)
    rc = store_fail(fs, &e);
  else if ((rc = inode_decode(fs, ino, b, n, &ip)) == 0 && (rc = iinsert(fs, ip)) != 0)
    inode_free(ip);
  free(b);
  if (rc) return rc;
  for (size_t i = 0; i < fs->npend; i++)
    if (fs->pend[i].ino == ino) ip->pending = true;
  *out = ip;
  return 0;
}

static int dir_get(ehal_sfs *fs, uint64_t ino, inode **out) {
  int rc = iget(fs, ino, out);
  if (rc) return rc;
  return (*out)->type == EHAL_SFS_DIR ? 0 : EHAL_SFS_ENOTDIR;
}

static int name_check(const char *name, size_t len) {
  if (len == 0) return EHAL_SFS_ENOENT;
  if (len > EHAL_SFS_NAME_MAX) return EHAL_SFS_ENAMETOOLONG;
  if (memchr(name, '/', len) || memchr(name, 0, len)) return EHAL_SFS_EINVAL;
  return 0;
}

static bool is_dot(const char *name, size_t len) {
  return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

/* Forgets inode ip: its objects are deleted at the next write-back. */
static int destroy(ehal_sfs *fs, inode *ip) {
  if (ip->type == EHAL_SFS_FILE) {
    cdrop_from(fs, ip->ino, 0);
    uint64_t n = nchunks(ip->size);
    int rc = pend_add_stored(fs, ip->ino, 0, n < ip->hwm ? n : ip->hwm);
    if (rc) return rc;
  }
  if (ip->on_disk) {
    if (fs->ndead == fs->deadcap) {
      size_t cap = fs->deadcap ? fs->deadcap * 2 : 64;
      uint64_t *nd = realloc(fs->dead, cap * sizeof *nd);
      if (!nd) return EHAL_SFS_ENOMEM;
      fs->dead = nd;
      fs->deadcap = cap;
    }
    fs->dead[fs->ndead++] = ip->ino;
  }
  iremove(fs, ip);
  return 0;
}

/* ---- the interface ---- */

bool ehal_sfs_guest_path_ok(const char *p) {
  size_t n = strlen(p);
  if (n == 0 || n > 200 || p[0] != '/' || (n > 1 && p[n - 1] == '/')) return false;
  for (const char *c = p + 1; *c;) {
    const char *e = strchr(c, '/');
    size_t l = e ? (size_t)(e - c) : strlen(c);
    if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.')) return false;
    for (size_t i = 0; i < l; i++)
      if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f) return false;
    c += l + (e ? 1 : 0);
  }
  return true;
}

const char *ehal_sfs_errmsg(const ehal_sfs *fs) { return fs->msg; }
void ehal_sfs_clear_errmsg(ehal_sfs *fs) { fs->msg[0] = 0; }

ehal_sfs *ehal_sfs_open(ehal_store *s, const char *name, bool create, ehal_store_err *e) {
  ehal_sfs *fs = calloc(1, sizeof *fs);
  if (fs) {
    fs->icap = 64;
    fs->ccap = 2 * CACHE_CHUNKS;
    fs->itab = calloc(fs->icap, sizeof *fs->itab);
    fs->ctab = calloc(fs->ccap, sizeof *fs->ctab);
  }
  if (!fs || !fs->itab || !fs->ctab) {
    if (fs) free(fs->itab), free(fs->ctab);
    free(fs);
    e->code = EHAL_STORE_IO;
    snprintf(e->msg, sizeof e->msg, "storage error: out of memory");
    return NULL;
  }
  fs->s = s;
  if (ehal_store_volume_open(s, name, strlen(name), create, &fs->c, e) ||
      ehal_store_version(fs->c, &fs->version, e))
    goto fail;
  uint8_t *b = NULL;
  size_t n = 0;
  ehal_store_status st = ehal_store_get(fs->c, SB_KEY, 1, alloc_heap, NULL, &b, &n, NULL, e);
  int rc = 0;
  if (st == EHAL_STORE_NOTFOUND && fs->version == 0) {
    /* a new volume: its root directory and superblock in one change */
    inode *root = calloc(1, sizeof *root);
    if (!root) {
      free(b);
      goto oom;
    }
    root->ino = root->parent = EHAL_SFS_ROOT;
    root->type = EHAL_SFS_DIR;
    root->next_seq = 3;
    root->atim = root->mtim = root->ctim = now_ns();
    fs->next_ino = EHAL_SFS_ROOT + 1;
    if (iinsert(fs, root)) {
      inode_free(root);
      goto oom;
    }
    mark_dirty(fs, root);
    rc = flush(fs, true);
  } else if (st) {
    free(b);
    if (st == EHAL_STORE_NOTFOUND) {
      e->code = EHAL_STORE_INTEGRITY;
      snprintf(e->msg, sizeof e->msg,
               "integrity error: sealed directory '%s' has no superblock (tampered with)", name);
    }
    goto fail;
  } else {
    rc = sb_decode(fs, b, n);
    /* a delete a crash interrupted: finish it */
    if (!rc) rc = flush(fs, false);
  }
  free(b);
  /* the root must be there and be a directory */
  inode *root;
  if (!rc && (rc = dir_get(fs, EHAL_SFS_ROOT, &root)) == EHAL_SFS_ENOTDIR)
    rc = corrupt(fs, "the root is not a directory", EHAL_SFS_ROOT);
  if (rc) {
    if (rc == EHAL_SFS_ENOMEM) goto oom;
    e->code = !strncmp(fs->msg, "integrity error", 15) ? EHAL_STORE_INTEGRITY
              : rc == EHAL_SFS_EIO                     ? EHAL_STORE_IO
                                                       : EHAL_STORE_LIMIT;
    snprintf(e->msg, sizeof e->msg, "%s", fs->msg);
    goto fail;
  }
  return fs;
oom:
  e->code = EHAL_STORE_IO;
  snprintf(e->msg, sizeof e->msg, "storage error: out of memory");
fail:
  fs->idirty = fs->cdirty = fs->ndead = fs->npend = 0; /* nothing to write back */
  ehal_sfs_close(fs);
  return NULL;
}

int ehal_sfs_close(ehal_sfs *fs) {
  if (!fs) return 0;
  int rc = fs->c ? flush(fs, true) : 0;
  for (size_t i = 0; i < fs->icap; i++)
    for (inode *ip = fs->itab[i], *nx; ip; ip = nx) {
      nx = ip->hnext;
      inode_free(ip);
    }
  for (chunk *ch = fs->lru_head, *nx; ch; ch = nx) {
    nx = ch->next;
    free(ch->data);
    free(ch);
  }
  free(fs->itab);
  free(fs->ctab);
  free(fs->dead);
  free(fs->pend);
  ehal_store_container_release(fs->c);
  free(fs);
  return rc;
}

int ehal_sfs_sync(ehal_sfs *fs) { return flush(fs, true); }
int ehal_sfs_commit(ehal_sfs *fs) { return flush(fs, false); }

int ehal_sfs_lookup(ehal_sfs *fs, uint64_t dir, const char *name, size_t len, uint64_t *ino) {
  inode *d;
  int rc = dir_get(fs, dir, &d);
  if (rc) return rc;
  if (len == 1 && name[0] == '.') {
    *ino = dir;
    return 0;
  }
  if (len == 2 && name[0] == '.' && name[1] == '.') {
    if (dir == EHAL_SFS_ROOT) return EHAL_SFS_ENOTCAPABLE;
    *ino = d->parent;
    return 0;
  }
  if ((rc = name_check(name, len))) return rc;
  dirent_t *en = dir_find(d, name, len);
  if (!en) return EHAL_SFS_ENOENT;
  *ino = en->ino;
  return 0;
}

int ehal_sfs_stat(ehal_sfs *fs, uint64_t ino, ehal_sfs_attr *st) {
  inode *ip;
  int rc = iget(fs, ino, &ip);
  if (rc) return rc;
  *st = (ehal_sfs_attr){ip->ino, ip->type, ip->size, ip->atim, ip->mtim, ip->ctim};
  return 0;
}

int ehal_sfs_create(ehal_sfs *fs, uint64_t dir, const char *name, size_t len, uint8_t type,
                    uint64_t *ino) {
  inode *d;
  int rc = dir_get(fs, dir, &d);
  if (rc) return rc;
  if (is_dot(name, len)) return EHAL_SFS_EEXIST;
  if ((rc = name_check(name, len))) return rc;
  if (dir_find(d, name, len)) return EHAL_SFS_EEXIST;
  if (d->unlinked) return EHAL_SFS_ENOENT;
  if (type != EHAL_SFS_DIR && type != EHAL_SFS_FILE) return EHAL_SFS_EINVAL;
  if ((rc = settle(fs))) return rc;
  inode *ip = calloc(1, sizeof *ip);
  if (!ip) return EHAL_SFS_ENOMEM;
  ip->ino = fs->next_ino;
  ip->type = type;
  ip->atim = ip->mtim = ip->ctim = now_ns();
  if (type == EHAL_SFS_DIR) {
    ip->parent = dir;
    ip->next_seq = 3;
  }
  if ((rc = iinsert(fs, ip))) {
    inode_free(ip);
    return rc;
  }
  if ((rc = dir_add(fs, d, name, len, ip->ino, type))) {
    iremove(fs, ip);
    return rc;
  }
  fs->next_ino++;
  mark_dirty(fs, ip);
  *ino = ip->ino;
  return 0;
}

/* Takes entry en of d out of the tree, and its inode unless still held. */
static int unlink_entry(ehal_sfs *fs, inode *d, dirent_t *en, inode *child) {
  dir_del(fs, d, en);
  if (child->holds) {
    child->unlinked = true;
    mark_clean(fs, child);
    return 0;
  }
  return destroy(fs, child);
}

int ehal_sfs_remove(ehal_sfs *fs, uint64_t dir, const char *name, size_t len, bool rmdir) {
  inode *d, *child;
  int rc = dir_get(fs, dir, &d);
  if (rc) return rc;
  if (is_dot(name, len))
    return rmdir ? (len == 1 ? EHAL_SFS_EINVAL : EHAL_SFS_ENOTEMPTY) : EHAL_SFS_EISDIR;
  if ((rc = name_check(name, len))) return rc;
  dirent_t *en = dir_find(d, name, len);
  if (!en) return EHAL_SFS_ENOENT;
  if ((rc = iget(fs, en->ino, &child))) return rc;
  if (rmdir && child->type != EHAL_SFS_DIR) return EHAL_SFS_ENOTDIR;
  if (!rmdir && child->type == EHAL_SFS_DIR) return EHAL_SFS_EISDIR;
  if (rmdir && child->live) return EHAL_SFS_ENOTEMPTY;
  if ((rc = settle(fs))) return rc;
  en = dir_find(d, name, len); /* a write-back does not move entries, but be sure */
  return unlink_entry(fs, d, en, child);
}

int ehal_sfs_rename(ehal_sfs *fs, uint64_t odir, const char *oname, size_t olen, uint64_t ndir,
                    const char *nname, size_t nlen) {
  inode *od, *nd, *src, *dst = NULL;
  int rc;
  if ((rc = dir_get(fs, odir, &od)) || (rc = dir_get(fs, ndir, &nd))) return rc;
  if (is_dot(oname, olen) || is_dot(nname, nlen)) return EHAL_SFS_EINVAL;
  if ((rc = name_check(oname, olen)) || (rc = name_check(nname, nlen))) return rc;
  dirent_t *sen = dir_find(od, oname, olen), *den = dir_find(nd, nname, nlen);
  if (!sen) return EHAL_SFS_ENOENT;
  if (nd->unlinked) return EHAL_SFS_ENOENT;
  if ((rc = iget(fs, sen->ino, &src))) return rc;
  if (den && (rc = iget(fs, den->ino, &dst))) return rc;
  if (dst == src) return 0;
  if (src->type == EHAL_SFS_DIR) {
    /* never under itself: walk up from the new parent */
    for (uint64_t a = ndir, depth = 0;; depth++) {
      if (a == src->ino) return EHAL_SFS_EINVAL;
      if (a == EHAL_SFS_ROOT) break;
      if (depth > fs->icount) return corrupt(fs, "a cycle of directories", a);
      inode *ai;
      if ((rc = iget(fs, a, &ai))) return rc;
      a = ai->parent;
    }
    if (dst && dst->type != EHAL_SFS_DIR) return EHAL_SFS_ENOTDIR;
    if (dst && dst->live) return EHAL_SFS_ENOTEMPTY;
  } else if (dst && dst->type == EHAL_SFS_DIR) {
    return EHAL_SFS_EISDIR;
  }
  if (!den && nd->live >= EHAL_SFS_DIR_MAX) return EHAL_SFS_ENOSPC;
  if ((rc = settle(fs))) return rc;
  uint64_t ino = src->ino;
  uint8_t type = src->type;
  if (dst && (rc = unlink_entry(fs, nd, dir_find(nd, nname, nlen), dst))) return rc;
  /* add before removing: a failure (no memory) then loses nothing */
  if ((rc = dir_add(fs, nd, nname, nlen, ino, type))) return rc;
  dir_del(fs, od, dir_find(od, oname, olen)); /* found again: dir_add may have moved it */
  if (type == EHAL_SFS_DIR) src->parent = ndir;
  src->ctim = now_ns();
  mark_dirty(fs, src);
  return 0;
}

void ehal_sfs_hold(ehal_sfs *fs, uint64_t ino) {
  inode *ip = ifind(fs, ino);
  if (ip) ip->holds++;
}

void ehal_sfs_release(ehal_sfs *fs, uint64_t ino) {
  inode *ip = ifind(fs, ino);
  if (!ip || !ip->holds) return;
  /* on failure (no memory) the objects stay: space lost, not data */
  if (--ip->holds == 0 && ip->unlinked) destroy(fs, ip);
}

static int file_get(ehal_sfs *fs, uint64_t ino, inode **out) {
  int rc = iget(fs, ino, out);
  if (rc) return rc;
  return (*out)->type == EHAL_SFS_FILE ? 0 : EHAL_SFS_EISDIR;
}

int ehal_sfs_read(ehal_sfs *fs, uint64_t ino, uint64_t off, uint8_t *buf, size_t len, size_t *n) {
  inode *ip;
  int rc = file_get(fs, ino, &ip);
  *n = 0;
  if (rc) return rc;
  if (off >= ip->size) return 0;
  if (len > ip->size - off) len = (size_t)(ip->size - off);
  while (*n < len) {
    uint64_t pos = off + *n, idx = pos / EHAL_SFS_CHUNK;
    size_t in = (size_t)(pos % EHAL_SFS_CHUNK), piece = EHAL_SFS_CHUNK - in;
    if (piece > len - *n) piece = len - *n;
    chunk *ch;
    if (piece == EHAL_SFS_CHUNK && !cfind(fs, ip->ino, idx)) {
      /* a whole chunk not cached: decrypted straight into the caller's
       * buffer, and the cache keeps what it holds (a sequential read) */
      if ((rc = chunk_read(fs, ip->ino, idx, buf + *n))) return *n ? 0 : rc;
      *n += piece;
      continue;
    }
    if ((rc = chunk_get(fs, ip, idx, true, &ch))) return *n ? 0 : rc;
    memcpy(buf + *n, ch->data + in, piece);
    *n += piece;
  }
  return 0;
}

/* Takes chunk idx of ino out of the ranges waiting to be deleted. */
static void pend_cut(ehal_sfs *fs, uint64_t ino, uint64_t idx) {
  for (size_t i = 0; i < fs->npend; i++) {
    range *r = &fs->pend[i];
    if (r->ino != ino || idx < r->from || idx >= r->to) continue;
    fs->pend_chunks--;
    if (idx == r->from) {
      r->from++;
    } else if (idx == r->to - 1) {
      r->to--;
    } else { /* split: [from, idx) stays, [idx + 1, to) is added */
      uint64_t to = r->to;
      r->to = idx;
      fs->pend_chunks -= to - idx - 1;
      pend_add(fs, ino, idx + 1, to); /* on failure the tail is only not deleted: space */
      r = &fs->pend[i];
    }
    if (r->from == r->to) fs->pend[i] = fs->pend[--fs->npend];
    return;
  }
}

/* ip grows over chunks [from, to): any of them still in the store, waiting
 * to be deleted since a shrink, must read as zeros, not as the old data.
 * A few become dirty zero chunks (written over the old ones with the rest
 * of the change, so a crash never shows a half-done state); many mean a
 * write-back first, which deletes them. */
static int reclaim(ehal_sfs *fs, inode *ip, uint64_t from, uint64_t to) {
  if (!ip->pending || from >= to) return 0;
  uint64_t n = 0; /* pending chunks in [from, to), counted by range */
  for (size_t i = 0; i < fs->npend; i++) {
    const range *r = &fs->pend[i];
    uint64_t lo = r->from > from ? r->from : from, hi = r->to < to ? r->to : to;
    if (r->ino == ip->ino && lo < hi) n += hi - lo;
  }
  if (n > 64) return flush(fs, false);
  while (n) { /* each pass takes one index out of the ranges */
    uint64_t idx = UINT64_MAX;
    for (size_t i = 0; i < fs->npend && idx == UINT64_MAX; i++) {
      const range *r = &fs->pend[i];
      uint64_t lo = r->from > from ? r->from : from, hi = r->to < to ? r->to : to;
      if (r->ino == ip->ino && lo < hi) idx = lo;
    }
    if (idx == UINT64_MAX) break;
    n--;
    chunk *ch;
    int rc = chunk_get(fs, ip, idx, false, &ch);
    if (rc) return rc;
    if (!ch->dirty) fs->cdirty++;
    ch->dirty = true;
    if (idx + 1 > ip->hwm) ip->hwm = idx + 1;
    pend_cut(fs, ip->ino, idx);
  }
  ip->pending = false;
  for (size_t i = 0; i < fs->npend; i++) ip->pending |= fs->pend[i].ino == ip->ino;
  return 0;
}

/* Grows or shrinks ip to size (zeros when growing). */
static int resize(ehal_sfs *fs, inode *ip, uint64_t size) {
  int rc;
  if (size > EHAL_SFS_MAX_FILE) return EHAL_SFS_EFBIG;
  if (size < ip->size) {
    uint64_t keep = nchunks(size), end = nchunks(ip->size);
    /* the last chunk kept first: if it cannot be read, nothing has changed */
    chunk *ch = NULL;
    if (size % EHAL_SFS_CHUNK && (rc = chunk_get(fs, ip, keep - 1, true, &ch))) return rc;
    if ((rc = pend_add_stored(fs, ip->ino, keep, end < ip->hwm ? end : ip->hwm))) return rc;
    cdrop_from(fs, ip->ino, keep);
    if (ip->hwm > keep) ip->hwm = keep; /* the ranges cover the rest */
    if (ch) {                           /* zero its tail: past the end is always zero */
      memset(ch->data + size % EHAL_SFS_CHUNK, 0, EHAL_SFS_CHUNK - size % EHAL_SFS_CHUNK);
      if (!ch->dirty) fs->cdirty++;
      ch->dirty = true;
    }
  } else if (size > ip->size && (rc = reclaim(fs, ip, nchunks(ip->size), nchunks(size)))) {
    return rc;
  }
  ip->size = size;
  ip->mtim = ip->ctim = now_ns();
  mark_dirty(fs, ip);
  return 0;
}

int ehal_sfs_write(ehal_sfs *fs, uint64_t ino, uint64_t off, const uint8_t *buf, size_t len,
                   size_t *n) {
  inode *ip;
  int rc = file_get(fs, ino, &ip);
  *n = 0;
  if (rc) return rc;
  if (off > EHAL_SFS_MAX_FILE || len > EHAL_SFS_MAX_FILE - off) return EHAL_SFS_EFBIG;
  if (off + len > ip->size && (rc = reclaim(fs, ip, nchunks(ip->size), nchunks(off + len))))
    return rc;
  while (*n < len) {
    /* a write-back between pieces leaves this write partly done: a short
     * write, as POSIX allows, and the next call gets any error */
    if ((rc = settle(fs))) return *n ? 0 : rc;
    uint64_t pos = off + *n, idx = pos / EHAL_SFS_CHUNK;
    size_t in = (size_t)(pos % EHAL_SFS_CHUNK), piece = EHAL_SFS_CHUNK - in;
    if (piece > len - *n) piece = len - *n;
    bool whole = in == 0 && piece == EHAL_SFS_CHUNK;
    chunk *ch;
    if ((rc = chunk_get(fs, ip, idx, !whole && idx < nchunks(ip->size), &ch))) return *n ? 0 : rc;
    memcpy(ch->data + in, buf + *n, piece);
    if (!ch->dirty) fs->cdirty++;
    ch->dirty = true;
    if (idx + 1 > ip->hwm) ip->hwm = idx + 1;
    *n += piece;
    if (pos + piece > ip->size) ip->size = pos + piece;
    ip->mtim = ip->ctim = now_ns();
    mark_dirty(fs, ip);
  }
  return 0;
}

int ehal_sfs_truncate(ehal_sfs *fs, uint64_t ino, uint64_t size) {
  inode *ip;
  int rc = file_get(fs, ino, &ip);
  if (rc) return rc;
  if ((rc = settle(fs))) return rc;
  return resize(fs, ip, size);
}

int ehal_sfs_set_times(ehal_sfs *fs, uint64_t ino, uint64_t atim, uint64_t mtim) {
  inode *ip;
  int rc = iget(fs, ino, &ip);
  if (rc) return rc;
  if ((rc = settle(fs))) return rc;
  if (atim != UINT64_MAX) ip->atim = atim;
  if (mtim != UINT64_MAX) ip->mtim = mtim;
  ip->ctim = now_ns();
  mark_dirty(fs, ip);
  return 0;
}

int ehal_sfs_readdir(ehal_sfs *fs, uint64_t dir, uint64_t cookie, ehal_sfs_dirent_fn fn,
                     void *user) {
  inode *d;
  int rc = dir_get(fs, dir, &d);
  if (rc) return rc;
  if (cookie == 0 && fn(user, 1, d->ino, EHAL_SFS_DIR, ".", 1)) return 0;
  if (cookie <= 1 && fn(user, 2, d->parent, EHAL_SFS_DIR, "..", 2)) return 0;
  /* entries are in seq order: find the first after cookie */
  uint32_t lo = 0, hi = d->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (d->ents[mid].seq <= cookie)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (uint32_t i = lo; i < d->n; i++) {
    const dirent_t *en = &d->ents[i];
    if (!en->dead && fn(user, en->seq, en->ino, en->type, en->name, en->len)) break;
  }
  return 0;
}
