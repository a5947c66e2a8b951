#!/usr/bin/env bash
# deploy.sh - artifacts built on another machine (issue 11): 'compile --sign'
# on a build machine, 'import --trust' on the target.  A signed artifact
# never loads as it is; only a trusted signer's valid signature over this
# engine build's code makes it an artifact of the target.  OpenSSL (a peer
# this project did not write) makes the keys, checks our signatures and
# signs a doctored artifact.
source "$(dirname "$0")/common.bash"

K=$TMP/keys
mkdir -p "$K"
for k in op other; do
  openssl genpkey -algorithm ed25519 -out "$K/$k.pem" 2>/dev/null
  openssl pkey -in "$K/$k.pem" -pubout -out "$K/$k.pub"
done
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/p256.pem" 2>/dev/null
BUILDER=$TMP/builder # the build machine's state: it must stay without a sealing root
TARGET=$TMP/target
mkdir -m 700 "$BUILDER" "$TARGET"
HELLO=$GUESTS/hello.wasm
ART=$TMP/hello.signed.art

runh compile --sign "$K/op.pem" --state-dir "$BUILDER" "$HELLO" -o "$ART"
check "compile --sign writes a signed artifact" eval 'rc_is 0 && [[ -s $ART ]]'
check "the build machine needs no sealing root: none was made" \
  eval '[[ ! -e $BUILDER/sealing ]] && [[ -z $(ls -A "$BUILDER") ]]'

# the trailer is the signer's raw public key, then an Ed25519 signature of
# every byte before it: OpenSSL verifies it as it is
size=$(stat -c %s "$ART")
head -c $((size - 64)) "$ART" >"$TMP/signed-body"
tail -c 64 "$ART" >"$TMP/sig"
check "OpenSSL verifies the signature with the operator's public key" \
  eval 'openssl pkeyutl -verify -pubin -inkey "$K/op.pub" -rawin -in "$TMP/signed-body" \
    -sigfile "$TMP/sig" >/dev/null'
check "the signer recorded in it is the operator's key" \
  eval 'cmp -s <(openssl pkey -pubin -in "$K/op.pub" -outform DER | tail -c 32) \
    <(tail -c 96 "$ART" | head -c 32)'

runh run --state-dir "$TARGET" "$ART"
check "a signed artifact does not run as it is" \
  eval 'rc_is 1 && err_has "import it first" && out_empty'
runh check --state-dir "$TARGET" "$ART"
check "check refuses it too" eval 'rc_is 1 && err_has "import it first"'

runh import --trust "$K/other.pub" --state-dir "$TARGET" "$ART"
check "a signer the operator did not name is refused" \
  eval 'rc_is 1 && err_has "not trusted here" && ! ls "$TARGET"/cache/*.art 2>/dev/null'

cp "$ART" "$TMP/flipped.art"
printf '\x5a' | dd of="$TMP/flipped.art" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
runh import --trust "$K/op.pub" --state-dir "$TARGET" "$TMP/flipped.art" -o "$TMP/x.art"
check "a byte changed in the native code: the signature fails" \
  eval 'rc_is 1 && err_has "does not verify" && [[ ! -e $TMP/x.art ]]'

# another key put in as signer, trusted, with the operator's signature
cp "$ART" "$TMP/relabel.art"
openssl pkey -pubin -in "$K/other.pub" -outform DER | tail -c 32 |
  dd of="$TMP/relabel.art" bs=1 seek=$((size - 96)) conv=notrunc 2>/dev/null
runh import --trust "$K/other.pub" --state-dir "$TARGET" "$TMP/relabel.art" -o "$TMP/x.art"
check "a signer swapped for a trusted one: the signature fails" \
  eval 'rc_is 1 && err_has "does not verify" && [[ ! -e $TMP/x.art ]]'

# a doctored engine build id, properly signed (by OpenSSL) with the trusted
# key: refused for its engine build, not for its signature
python3 - "$ART" "$TMP/engine-body" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
elen = int.from_bytes(b[12:16], "little")
b[80 + elen - 1] ^= 0x01
open(sys.argv[2], "wb").write(b[:-64])
PY
openssl pkeyutl -sign -inkey "$K/op.pem" -rawin -in "$TMP/engine-body" -out "$TMP/engine-sig"
cat "$TMP/engine-body" "$TMP/engine-sig" >"$TMP/engine.art"
runh import --trust "$K/op.pub" --state-dir "$TARGET" "$TMP/engine.art" -o "$TMP/x.art"
check "a validly signed artifact of another engine build is refused for that" \
  eval 'rc_is 1 && err_has "another engine build" && [[ ! -e $TMP/x.art ]]'

runh import --trust "$K/other.pub" --trust "$K/op.pub" --state-dir "$TARGET" "$ART" \
  -o "$TMP/local.art"
check "import with the operator's key among those trusted" eval 'rc_is 0 && [[ -s $TMP/local.art ]]'
runh run --state-dir "$TARGET" "$TMP/local.art"
check "the imported artifact runs on the target" eval 'rc_is 0 && out_has "platform:"'
runh run --state-dir "$BUILDER" "$TMP/local.art"
check "and only there: it is tagged with the target's sealing root" \
  eval 'rc_is 1 && err_has "cannot authenticate"'
runh import --trust "$K/op.pub" --state-dir "$TARGET" "$TMP/local.art"
check "an artifact of this machine is not a signed one to import" \
  eval 'rc_is 1 && err_has "not a signed artifact"'

runh import --trust "$K/op.pub" --state-dir "$TARGET" "$ART"
check "import into the cache" eval 'rc_is 0 && [[ $(ls "$TARGET"/cache/*.art | wc -l) == 1 ]]'
runh run --progress --state-dir "$TARGET" "$HELLO"
check "run of the .wasm then uses the imported code: nothing compiles" \
  eval 'rc_is 0 && out_has "platform:" && ! err_has translating'

# several modules at once, then imported at once
runh compile --sign "$K/op.pem" "$HELLO" "$GUESTS/caps_guest.wasm" -o "$TMP/dist"
check "compile --sign of several modules: DIR/NAME.art each" \
  eval 'rc_is 0 && [[ -s $TMP/dist/hello.art && -s $TMP/dist/caps_guest.art ]]'
runh import --trust "$K/op.pub" --state-dir "$TMP/target2" "$TMP/dist/hello.art" \
  "$TMP/dist/caps_guest.art"
check "import of several: a line each" \
  eval 'rc_is 0 && [[ $(grep -c " -> cache" "$TMP/out") == 2 ]]'

runh compile --sign "$K/p256.pem" "$HELLO" -o "$TMP/x.art"
check "a signing key that is not Ed25519 is refused with what to do" \
  eval 'rc_is 1 && err_has "genpkey -algorithm ed25519" && [[ ! -e $TMP/x.art ]]'
runh import --state-dir "$TARGET" "$ART"
check "import without --trust is a usage error" eval 'rc_is 2 && err_has "--trust"'

finish
