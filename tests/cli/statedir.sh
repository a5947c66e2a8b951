#!/usr/bin/env bash
# statedir.sh - the state directory must be the running user's alone: one
# another user owns (or may write to), a symbolic link in it, or a key or
# database file another user owns is refused with a message naming the
# path and the fix, before anything in it is read; a new one is created
# 0700.  Files owned by another user need root to make (chown 65534, the
# nobody user); those tests are skipped otherwise.
source "$(dirname "$0")/common.bash"

G=$GUESTS/storage_guest.wasm
if [[ ! -f $G ]]; then
  echo "not ok 1 - storage guest is built at $G"
  exit 1
fi
ROOT=0
[[ $(id -u) == 0 ]] && ROOT=1
OTHER=65534

skip() { # skip DESCRIPTION : a test that needs root
  T_N=$((T_N + 1))
  echo "ok $T_N - $1 # SKIP needs root (chown to another user)"
}
sg() { # sg STATE ARGS... : the storage guest with that state directory
  local s=$1
  shift
  runh run --state-dir "$s" --workload app "$G" "$@"
}
mode_of() { stat -c %a "$1"; }
owner_of() { stat -c %u "$1"; }
db_of() { # db_of STATE
  echo "$1/storage/w-$(printf %s app | sha256sum | cut -c1-32).db"
}
# refused PATH WORDS... : exit 1, nothing on stdout, stderr names PATH and
# every one of WORDS
refused() {
  local p=$1 w
  shift
  rc_is 1 && out_empty && err_has "$p" && no_sanitizer || return 1
  for w in "$@"; do err_has "$w" || return 1; done
}
# good STATE : a state directory set up by a successful run (sealing root,
# storage database) and attest (attestation chain)
good() {
  sg "$1" create box >/dev/null
  rc_is 0 || return 1
  runh attest --state-dir "$1"
  rc_is 0
}

# ---- a new state directory ----
sg "$TMP/a/b/state" create box
check "a new state directory (and its missing parents) is created and used" \
  eval 'rc_is 0 && out_has "created box"'
check "... every directory it created is 0700" \
  eval '[[ $(mode_of "$TMP/a") == 700 && $(mode_of "$TMP/a/b") == 700 &&
          $(mode_of "$TMP/a/b/state") == 700 && $(mode_of "$TMP/a/b/state/sealing") == 700 &&
          $(mode_of "$TMP/a/b/state/storage") == 700 ]]'
check "... the sealing root and the database are 0600" \
  eval '[[ $(mode_of "$TMP/a/b/state/sealing/root.key") == 600 &&
          $(mode_of "$(db_of "$TMP/a/b/state")") == 600 ]]'
sg "$TMP/a/b/state" put box k v
check "... and it is used again on the next run" eval 'rc_is 0 && out_has "stored k"'
mkdir -p "$TMP/xdg"
chmod 755 "$TMP/xdg"
XDG_STATE_HOME=$TMP/xdg runh attest
check "the default state directory (\$XDG_STATE_HOME/elastic-hal) is created 0700" \
  eval 'rc_is 0 && [[ $(mode_of "$TMP/xdg/elastic-hal") == 700 &&
                      $(mode_of "$TMP/xdg/elastic-hal/attestation") == 700 ]]'
check "... its private keys are 0600" \
  eval '[[ $(mode_of "$TMP/xdg/elastic-hal/attestation/simulated/vcek.key") == 600 ]]'
mkdir "$TMP/sticky"
chmod 1777 "$TMP/sticky"
sg "$TMP/sticky/state" create box
check "a state directory in a world-writable sticky directory (like /tmp) is fine" \
  eval 'rc_is 0 && [[ $(mode_of "$TMP/sticky/state") == 700 ]]'

# ---- the state directory's own mode ----
for m in 777 770 720 702; do
  S=$TMP/mode$m
  mkdir "$S"
  chmod "$m" "$S"
  sg "$S" create box
  check "run: a state directory of mode $m is refused, naming it and the fix" \
    refused "$S" "writable by group or others" "chmod 700"
  check "... and nothing is created in it" eval '[[ ! -e $S/sealing && ! -e $S/storage ]]'
done
S=$TMP/mode777
runh attest --state-dir "$S"
check "attest: a state directory of mode 777 is refused too" \
  refused "$S" "writable by group or others" "chmod 700"
check "... and no attestation key is generated in it" eval '[[ ! -e $S/attestation ]]'
runh storage list --state-dir "$S"
check "storage list: a state directory of mode 777 is refused too" refused "$S" "chmod 700"
chmod 700 "$S"
sg "$S" create box
check "once it is chmod 700 it is used" eval 'rc_is 0 && out_has "created box"'
runh attest --state-dir "$S"
check "... by attest too" eval 'rc_is 0 && out_has "evidence"'
S=$TMP/mode755
mkdir "$S"
chmod 755 "$S"
sg "$S" create box
check "a state directory of mode 755 (readable, not writable, by others) is used" rc_is 0

# ---- owned by another user ----
S=$TMP/foreign
if ((ROOT)); then
  mkdir -p "$S/sealing"
  head -c 32 /dev/urandom >"$S/sealing/root.key"
  chmod 700 "$S" "$S/sealing"
  chmod 600 "$S/sealing/root.key"
  cp "$S/sealing/root.key" "$TMP/planted.key"
  chown -R "$OTHER:$OTHER" "$S"
  sg "$S" create box
  check "run: a state directory owned by another user is refused (exit 1, the guest prints nothing)" \
    refused "$S" "owned by uid $OTHER" "--state-dir" "chown"
  check "... nothing is created in it, the planted sealing root is left alone" \
    eval '[[ ! -e $S/storage && ! -e $S/attestation ]] && cmp -s "$S/sealing/root.key" "$TMP/planted.key"'
  runh attest --state-dir "$S"
  check "attest: a state directory owned by another user is refused" \
    refused "$S" "owned by uid $OTHER" "--state-dir" "chown"
  check "... and no attestation key is generated in it" eval '[[ ! -e $S/attestation ]]'
  runh storage list --state-dir "$S"
  check "storage list: a state directory owned by another user is refused" \
    refused "$S" "owned by uid $OTHER"
else
  for t in "run refuses a state directory owned by another user" "... nothing is created in it" \
    "attest refuses it" "... no attestation key" "storage list refuses it"; do
    skip "$t"
  done
fi

# ---- symbolic links ----
S=$TMP/links
good "$S"
check "(a good state directory for the link tests)" rc_is 0
head -c 32 /dev/urandom >"$TMP/mine.key"
chmod 600 "$TMP/mine.key"
mv "$S/sealing/root.key" "$TMP/saved.key"
ln -s "$TMP/mine.key" "$S/sealing/root.key"
sg "$S" create box2
check "a symbolic link at sealing/root.key (to a file of ours) is refused" \
  refused "$S/sealing/root.key" "symbolic link"
rm "$S/sealing/root.key"
mv "$TMP/saved.key" "$S/sealing/root.key"
sg "$S" create box2
check "... and with the real file back, all is well" eval 'rc_is 0 && out_has "created box2"'
mv "$S/sealing" "$TMP/sealing-real"
ln -s "$TMP/sealing-real" "$S/sealing"
sg "$S" create box3
check "a symbolic link at sealing/ (to a directory of ours) is refused" \
  refused "$S/sealing" "symbolic link"
rm "$S/sealing"
mv "$TMP/sealing-real" "$S/sealing"
DB=$(db_of "$S")
mv "$DB" "$TMP/real.db"
ln -s "$TMP/real.db" "$DB"
sg "$S" create box3
check "a symbolic link in place of the storage database is refused" refused "$DB" "symbolic link"
runh storage list --state-dir "$S"
check "... by storage list too" refused "$DB" "symbolic link"
rm "$DB"
mv "$TMP/real.db" "$DB"
mv "$S/attestation/simulated/vcek.key" "$TMP/vcek.key"
ln -s "$TMP/vcek.key" "$S/attestation/simulated/vcek.key"
runh attest --state-dir "$S"
check "a symbolic link at attestation/simulated/vcek.key is refused" \
  refused "$S/attestation/simulated/vcek.key" "symbolic link"
rm "$S/attestation/simulated/vcek.key"
mv "$TMP/vcek.key" "$S/attestation/simulated/vcek.key"
ln -s "$S" "$TMP/links-link"
sg "$TMP/links-link" create box3
check "a state directory given as a symbolic link is refused" \
  refused "$TMP/links-link" "symbolic link" "--state-dir"
sg "$S" create box3
check "(the good state directory is still good)" rc_is 0

# ---- files and directories in it owned by another user, or open to others ----
S=$TMP/files
good "$S"
check "(a good state directory for the file tests)" rc_is 0
DB=$(db_of "$S")
chmod 640 "$S/sealing/root.key"
sg "$S" create c1
check "a sealing root readable by group (0640) is refused: keys are 0600" \
  refused "$S/sealing/root.key" "chmod 600"
chmod 600 "$S/sealing/root.key"
chmod 666 "$DB"
sg "$S" create c1
check "a storage database writable by others (0666) is refused" refused "$DB" "writable"
chmod 600 "$DB"
chmod 770 "$S/storage"
sg "$S" create c1
check "a storage directory writable by group (0770) is refused" \
  refused "$S/storage" "writable by group or others" "chmod 700"
chmod 700 "$S/storage"
chmod 644 "$S/attestation/simulated/vcek.key"
runh attest --state-dir "$S"
check "an attestation private key readable by others (0644) is refused" \
  refused "$S/attestation/simulated/vcek.key" "chmod 600"
chmod 600 "$S/attestation/simulated/vcek.key"
if ((ROOT)); then
  chown "$OTHER" "$S/sealing/root.key"
  sg "$S" create c1
  check "a sealing root owned by another user is refused" \
    refused "$S/sealing/root.key" "owned by uid $OTHER" "chown"
  chown 0 "$S/sealing/root.key"
  chown "$OTHER" "$S/sealing"
  sg "$S" create c1
  check "a sealing directory owned by another user is refused" refused "$S/sealing" "owned by uid $OTHER"
  chown 0 "$S/sealing"
  chown "$OTHER" "$DB"
  sg "$S" create c1
  check "a storage database owned by another user is refused" refused "$DB" "owned by uid $OTHER"
  runh storage list --state-dir "$S"
  check "... by storage list too" refused "$DB" "owned by uid $OTHER"
  chown 0 "$DB"
  : >"$DB-wal"
  chown "$OTHER" "$DB-wal"
  sg "$S" create c1
  check "a -wal file owned by another user next to the database is refused" \
    refused "$DB-wal" "owned by uid $OTHER"
  rm -f "$DB-wal"
  chown "$OTHER" "$S/attestation/simulated/vcek.key"
  runh attest --state-dir "$S"
  check "an attestation key owned by another user is refused" \
    refused "$S/attestation/simulated/vcek.key" "owned by uid $OTHER"
  chown 0 "$S/attestation/simulated/vcek.key"
else
  for t in "sealing root of another user" "sealing directory of another user" \
    "database of another user" "... by storage list" "-wal of another user" "attestation key of another user"; do
    skip "$t"
  done
fi
sg "$S" create c1
check "with everything put right, the state directory is used again" \
  eval 'rc_is 0 && out_has "created c1"'
runh attest --state-dir "$S"
check "... by attest too" rc_is 0
runh storage list --state-dir "$S"
check "... and storage list" eval 'rc_is 0 && out_has "c1"'

finish
