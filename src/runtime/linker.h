/*
 * linker.h - the catalog of host interfaces and the import resolver.
 *
 * The catalog (generated from WIT into ehal_glue.c) lists every interface of
 * every package with every function and its canonical-ABI core signature;
 * a function the HAL does not implement has fn == NULL.  A linker is a set of
 * catalog interfaces; resolving an import finds the interface by name and a
 * semver-compatible version, then the function, then checks the signature.
 */
#ifndef EHAL_LINKER_H
#define EHAL_LINKER_H

#include <stddef.h>

#include "../engine/engine.h"

typedef struct {
  const char *name; /* WIT function name, e.g. "get-system-time" */
  const char *sig;  /* compact core signature, see wasm_module.h */
  ehal_hostfn fn;   /* NULL: not implemented, never linked */
} ehal_func_def;

typedef struct {
  const char *package; /* "elastic:clock"; NULL for a plain core module name */
  const char *name;    /* interface name, or the core module name */
  unsigned major, minor, patch;
  const ehal_func_def *funcs;
  size_t nfuncs;
} ehal_iface_def;

typedef struct {
  const char *name;
  const ehal_iface_def *const *ifaces;
} ehal_world_def;

extern const ehal_iface_def *const ehal_catalog[]; /* NULL-terminated */
extern const ehal_world_def ehal_worlds[];         /* name == NULL ends */
/* The guest-side names of the worlds (wit/guest.wit), which link what the
 * host-side world of the same interfaces links. */
typedef struct {
  const char *name, *world;
} ehal_world_alias;
extern const ehal_world_alias ehal_world_aliases[]; /* name == NULL ends */
extern const ehal_iface_def ehal_iface_wasi_preview1;

/* Add one interface, or every interface of a world; adding an interface the
 * linker holds already changes nothing.  The world's name is not recorded:
 * a linker is named by the set it holds (ehal_linker_identity). */
int ehal_linker_add_iface(elastic_hal_linker *linker, const ehal_iface_def *iface);
int ehal_linker_add_world(elastic_hal_linker *linker, const char *world,
                          const ehal_iface_def *const *ifaces);

/* The linker's identity, bound into attestation evidence as its "world"
 * (docs/evidence.md).  Only HAL interfaces count (those with a package; WASI
 * preview 1 does not).  When they are exactly the interfaces of a composed
 * world in ehal_worlds, the identity is that world's name
 * ("elastic-tee-minimal"); otherwise it is "interfaces:" followed by every
 * one as PACKAGE/NAME@MAJOR.MINOR.PATCH, sorted bytewise, without repeats,
 * joined by "," ("interfaces:elastic:clock/clock@0.1.1,elastic:random/random@0.1.0";
 * "interfaces:" alone when there are none).  Independent of the order and
 * repetition of additions.  Owned by the linker, valid until it changes. */
const char *ehal_linker_identity(const elastic_hal_linker *linker);

/* Resolve one function import.  On failure returns NULL and writes the
 * reason (without the import name) into why. */
ehal_hostfn ehal_linker_resolve(const elastic_hal_linker *linker, const char *module,
                                const char *field, const char *sig, char *why, size_t whylen);

/* Whether the linker serves the interface a component imports by this
 * name ("ns:pkg/iface@ver", resolved as an import module name is), or the
 * embedder defined functions under it.  On false, the reason is in why. */
bool ehal_linker_provides(const elastic_hal_linker *linker, const char *iface, char *why,
                          size_t whylen);

/* The interfaces in a linker. */
size_t ehal_linker_ifaces(const elastic_hal_linker *linker, const ehal_iface_def *const **out);

/* A host function the embedder defined (elastic_hal_linker_define). */
typedef struct {
  char *module, *name, *sig;
  elastic_hal_host_fn fn;
  void *user;
  void (*free_user)(void *user);
} ehal_host_def;

/* The embedder's definition of module#name, or NULL. */
const ehal_host_def *ehal_linker_find_def(const elastic_hal_linker *linker, const char *module,
                                          const char *name);

/* Whether a catalog function has an implementation (for capabilities). */
bool ehal_iface_implemented(const ehal_iface_def *iface);

#endif
