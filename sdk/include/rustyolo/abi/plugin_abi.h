/*
 * rustyolo plugin ABI — the only binary contract between the rustyolo host (the `rustyolo` CLI and
 * the in-container `rustyolo-entrypoint`) and a plugin shared object.
 *
 * This header is pure C and is the whole contract on its own. Everything structured crosses the
 * boundary as UTF-8 JSON text; nothing C++ (STL types, exceptions, logger objects) ever does.
 *
 * Life cycle
 *   1. The host loads the shared object (RTLD_NOW | RTLD_LOCAL) and never unloads it.
 *   2. It calls the single exported symbol `rustyolo_plugin_entry(host_major, host_minor)`.
 *      The plugin returns a pointer to a static descriptor (or NULL if it refuses the host).
 *   3. The host accepts the plugin only if descriptor->abi_major == host major and
 *      descriptor->abi_minor <= host minor, and every struct_size is at least the size of that
 *      struct in ABI 1.0 and no larger than the host's own sizeof.
 *   4. The host calls `create(host_api)` once per process and gets an opaque instance.
 *   5. The host calls hook functions with that instance, from one thread at a time.
 *   6. The host calls `destroy(instance)` before exit (it may skip it on abnormal exit).
 *
 * Threads
 *   Hook functions are called from one thread at a time (step 5); a plugin needs no locking for
 *   calls the host makes. A plugin MAY call host_api->log and host_api->audit from any thread,
 *   including threads it starts itself (a packet reader, a feeder), at any time between create()
 *   returning and destroy() returning: the host implements both thread-safe (its logger is a
 *   multi-threaded one; audit events are handed to a queue behind a lock). Both copy their
 *   argument before they return. A plugin must not call them after destroy() returned, so it joins
 *   its threads in destroy(). Nothing else of the host_api is called from plugin threads.
 *
 * Versioning
 *   Structs start with `struct_size` and are append-only: a new minor version only appends fields.
 *   The host copies the part it knows and treats missing trailing fields as NULL/0.
 *   ABI 1.1 appended rustyolo_audit_hooks.read, rustyolo_runtime_hooks.image_inspect,
 *   rustyolo_runtime_hooks.image_build and rustyolo_runtime_hooks.image_pull; a plugin built
 *   against 1.0 loads and those read as NULL. ABI 1.2 appended rustyolo_network_hooks.update.
 *   A new major version may change anything; hosts refuse plugins of another major.
 *
 * Errors
 *   Every call returns a rustyolo_status. On anything but RUSTYOLO_OK the host reads
 *   `last_error(instance)` for a human-readable message naming what failed and on what.
 *   A plugin must never let a C++ exception or a longjmp cross this boundary.
 *
 * Ownership rules used below
 *   [static]   owned by the plugin, valid for the life of the process (plugins are never unloaded).
 *   [borrowed] owned by the caller, valid only for the duration of the call; copy to keep.
 *   [instance] owned by the plugin instance, valid until the next call on that instance.
 */
#ifndef RUSTYOLO_ABI_PLUGIN_ABI_H
#define RUSTYOLO_ABI_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUSTYOLO_ABI_MAJOR 1u
#define RUSTYOLO_ABI_MINOR 2u

/* The one symbol a plugin exports. */
#define RUSTYOLO_PLUGIN_ENTRY_SYMBOL "rustyolo_plugin_entry"

typedef int32_t rustyolo_status;
enum {
    RUSTYOLO_OK = 0,          /* the call did what it was asked */
    RUSTYOLO_ERROR = 1,       /* the call failed; see last_error() */
    RUSTYOLO_INVALID = 2,     /* the input was rejected as invalid; see last_error() */
    RUSTYOLO_UNSUPPORTED = 3  /* this plugin does not handle this request (e.g. an unknown agent) */
};

/* Log levels of the host's logger. */
enum {
    RUSTYOLO_LOG_TRACE = 0,
    RUSTYOLO_LOG_DEBUG = 1,
    RUSTYOLO_LOG_INFO = 2,
    RUSTYOLO_LOG_WARN = 3,
    RUSTYOLO_LOG_ERROR = 4
};

/*
 * Output channel for results. Owned by the host; [borrowed] for the duration of the hook call.
 * The plugin calls write() zero or more times; the host appends the bytes (it copies them before
 * write() returns). The concatenated output of one call is one JSON document.
 */
typedef struct rustyolo_writer {
    void *ctx;                                                   /* [borrowed] host's */
    void (*write)(void *ctx, const char *data, size_t length);   /* data: [borrowed] */
} rustyolo_writer;

/*
 * Services the host offers to a plugin. Passed to create(); the struct and its pointers are owned by
 * the host and stay valid for the life of the process, except config_json (see below).
 */
typedef struct rustyolo_host_api {
    uint32_t struct_size;
    uint32_t abi_major;               /* the host's ABI version */
    uint32_t abi_minor;
    void *ctx;                        /* host's; pass back unchanged */
    /* Log through the host's logger. message: [borrowed] UTF-8. */
    void (*log)(void *ctx, int32_t level, const char *message);
    /* Emit one audit event: a JSON object (layer, verdict, details). event_json: [borrowed]. */
    void (*audit)(void *ctx, const char *event_json);
    /* This plugin's configuration as a JSON object ("{}" when none). [borrowed] during create(). */
    const char *config_json;
    /* Where the host runs: "host" (the rustyolo CLI) or "container" (rustyolo-entrypoint). [static] */
    const char *side;
} rustyolo_host_api;

/*
 * Hook tables. A plugin implements a hook by pointing the descriptor at a filled table; NULL means
 * "not implemented". Function pointers inside a table may be NULL where documented.
 * Every *_json argument is [borrowed]; every result is written to `out` as one JSON document.
 * The JSON shapes are documented in docs/plugin-guide.md and versioned with the ABI minor.
 */

/* Agent profile (host). */
typedef struct rustyolo_agent_hooks {
    uint32_t struct_size;
    /* Writes a JSON array of the agent names this plugin serves, e.g. ["claude"]. */
    rustyolo_status (*names)(void *instance, const rustyolo_writer *out);
    /* request: {"agent", "args": [user args], "user_args": bool, "inject_message": string|null,
     *           "workdir", "home"}
     * result:  the agent profile object (executable, argv, egress, env_passthrough, persist,
     *          protect, install). RUSTYOLO_UNSUPPORTED for a name it does not serve. */
    rustyolo_status (*profile)(void *instance, const char *request_json, const rustyolo_writer *out);
} rustyolo_agent_hooks;

/* Network policy (host: validate; container: install and feed the firewall). */
typedef struct rustyolo_network_hooks {
    uint32_t struct_size;
    /* Host. request: {"entries": [strings], "allow_lan": bool, "dns_servers": [strings]}
     * result: {"entries": [normalised entry objects], "dns_servers": [...], "warnings": [...]}.
     * RUSTYOLO_INVALID names the bad value. May be NULL. */
    rustyolo_status (*normalize)(void *instance, const char *request_json, const rustyolo_writer *out);
    /* Container. Installs this plugin's part of the network policy from the Plan before the agent
     * exists. result: {"summary": ...}. Failure stops the start. May be NULL. */
    rustyolo_status (*install)(void *instance, const char *plan_json, const rustyolo_writer *out);
    /* Container. Verifies what install() set up. result: {"checks": [...]}. May be NULL. */
    rustyolo_status (*self_test)(void *instance, const char *plan_json, const rustyolo_writer *out);

    /* ---- ABI 1.2 ---- */

    /* Container. Changes the installed policy of a running session (`rustyolo allow` / `deny`),
     * called after install() and self_test(), from a thread other than the one that called them
     * (still one call at a time). May be NULL (the session then refuses live changes).
     * request: {"op": "allow" | "deny",
     *           "entries": [normalised entry objects, as normalize() returns them]}
     * allow: the entries are added; names are answered and their addresses opened as they
     *        resolve, CIDRs opened at once. deny: entries added by an earlier allow are taken back:
     *        the DNS filter stops answering them first, then addresses that no remaining entry
     *        allows leave the sets, then open connections to them are ended. At no moment is the
     *        policy wider than the old or the new one.
     * result:  {"applied": [entry objects], "removed_addresses": int, "ended_flows": int}
     * RUSTYOLO_INVALID names an entry the request cannot take (deny of an entry not added live);
     * nothing is changed then. */
    rustyolo_status (*update)(void *instance, const char *request_json, const rustyolo_writer *out);
} rustyolo_network_hooks;

/* Mount guard (host). */
typedef struct rustyolo_mount_hooks {
    uint32_t struct_size;
    /* request: {"source" (canonical), "requested" (as the user wrote it), "target", "readonly",
     *           "file_type": "directory"|"regular"|"socket"|"device"|"fifo"|"symlink"|"missing"|"other",
     *           "home", "origin": "cli"|"config"|"agent"}
     * result:  {"verdict": "allow"|"refuse", "rule": string, "reason": string} */
    rustyolo_status (*judge)(void *instance, const char *request_json, const rustyolo_writer *out);
} rustyolo_mount_hooks;

/* Resource policy (host). */
typedef struct rustyolo_resource_hooks {
    uint32_t struct_size;
    /* request: {"memory": string|null, "cpus": string|null, "pids_limit": string|null,
     *           "tmp_size": string|null, "home_size": string|null}
     * result:  {"memory_bytes": int|null, "cpus": number|null, "pids": int|null,
     *           "tmp_bytes": int, "home_bytes": int, "shm_bytes": int, "warnings": [...]}
     * null means unlimited; the tmpfs sizes (/tmp, the home, /dev/shm) are always given and sum below
     * memory_bytes. RUSTYOLO_INVALID names the bad value. */
    rustyolo_status (*resolve)(void *instance, const char *request_json, const rustyolo_writer *out);
} rustyolo_resource_hooks;

/* Syscall policy (host: prepare; container: install the filter just before exec). */
typedef struct rustyolo_syscall_hooks {
    uint32_t struct_size;
    /* Host. request: {"profile": "default"|"none"|<path>, "profile_json": object|null}
     * result: the syscall section of the Plan. May be NULL. */
    rustyolo_status (*prepare)(void *instance, const char *request_json, const rustyolo_writer *out);
    /* Container, in the process that will exec the agent, after privileges are dropped and
     * no_new_privs is set. result: {"rules": int, ...}; with denials reported also
     * "notify": {"fd": the seccomp listener (owned by the caller, which hands it to the
     * supervisor), "errnos": {"default": {"errno", "rule"}|null, "syscalls": {name: {...}}},
     * "silent": [names]}. Between this call and the hand-over the caller makes no syscall but
     * brk, mmap, munmap, mremap, madvise, sendmsg, close, write, exit_group. May be NULL. */
    rustyolo_status (*install)(void *instance, const char *plan_json, const rustyolo_writer *out);
} rustyolo_syscall_hooks;

/* Audit sink (host). */
typedef struct rustyolo_audit_hooks {
    uint32_t struct_size;
    /* session_json: {"session", "agent", "level", "started"}. result: {"location": string}. */
    rustyolo_status (*open)(void *instance, const char *session_json, const rustyolo_writer *out);
    /* event_json: one audit record. result: nothing. */
    rustyolo_status (*event)(void *instance, const char *event_json, const rustyolo_writer *out);
    /* summary_json: {"exit_code", "counts"}. result: nothing. */
    rustyolo_status (*close)(void *instance, const char *summary_json, const rustyolo_writer *out);

    /* ---- ABI 1.1 ---- */

    /* Reads the sink's own past sessions back, for `rustyolo audit`. Called on an instance that
     * has not been open()ed. May be NULL: the sink keeps nothing it can read back.
     * request: {"action": "list"|"read",
     *           "directory": string — the configured place ("" = the sink's default; a sink that
     *                        keeps no files may ignore it),
     *           "session": string — read only: a session id, an unambiguous prefix of one, or
     *                      "latest",
     *           "offset": int — read only: where to start (0, or the "offset" a previous read of
     *                     the same session returned, to get only what was added since)}
     * list result: {"location": string (where the sessions are kept, for the user),
     *               "sessions": [{"session": id, "started": string (from the sink's own naming),
     *                             "location": string, "live": bool}]  — oldest first}
     * read result: {"session": the exact id, "started": string, "location": string,
     *               "records": [audit record objects, in the order written, from offset on],
     *               "offset": int (just after the last whole record returned),
     *               "malformed_lines": int (lines from offset on that are not records),
     *               "truncated": bool (bytes after the last whole record: cut off or being written),
     *               "live": bool (a running session held the record store before this read began;
     *                       false: the records returned are its last ones)}
     * RUSTYOLO_INVALID for a session that matches none or several (the message lists them) or a
     * bad directory; RUSTYOLO_ERROR when the store cannot be read. */
    rustyolo_status (*read)(void *instance, const char *request_json, const rustyolo_writer *out);
} rustyolo_audit_hooks;

/* Runtime (host): how a Plan becomes a running container. */
typedef struct rustyolo_runtime_hooks {
    uint32_t struct_size;
    /* Writes a JSON array of the runtime names served, e.g. ["docker", "podman"]. */
    rustyolo_status (*names)(void *instance, const rustyolo_writer *out);
    /* request: {"runtime": name, "plan": <Plan>, "plan_file": host path, "interactive": bool,
     *           "runtime_dir": host path}
     * result:  {"argv": [strings]} — the command the host runs (the host spawns it, never a shell). */
    rustyolo_status (*command)(void *instance, const char *request_json, const rustyolo_writer *out);

    /* ---- ABI 1.1 ---- */

    /* What the engine knows of a sandbox image. May be NULL (the host then cannot check images).
     * request: {"runtime": name, "image": reference}
     * result:  {"present": bool,
     *           "plan_schema": string|null — the image's plan-schema label (the Plan schema its
     *                          entrypoint reads), null when absent or the image is not present,
     *           "agents": [{"name": string, "version": string|null}] — the agents the image was
     *                     built with (empty when it does not say),
     *           "base_image": string — optional, the base image it was built from, when it says,
     *           "reason": string — optional, when not present: why, in the engine's words}
     * RUSTYOLO_ERROR when the engine cannot be asked (the message says why). */
    rustyolo_status (*image_inspect)(void *instance, const char *request_json, const rustyolo_writer *out);

    /* How to build a sandbox image. May be NULL (`rustyolo image build` then refuses).
     * request: {"runtime": name, "image": the tag to build, "base_image": reference,
     *           "agents": [{"name": string, "npm": [package names]}] — the agents to install,
     *           "packages": {"npm": [package names]} — every package to install (agents' and extra),
     *                       "debian": [package names] — extra Debian packages (the user's [image] packages),
     *           "ca_cert": bool — whether the host provides an extra CA bundle to trust,
     *           "plan_schema": int — the Plan schema the image's entrypoint reads,
     *           "context_dir": host path — an empty private directory the host fills as the
     *                          result says and removes after the build,
     *           "quiet": bool}
     * result:  {"argv": [strings] — the build command; the host spawns it (never a shell) with
     *                   its own stdin/stdout/stderr and checks the image with image_inspect after,
     *           "provide": {"sources": path relative to context_dir where the host copies the
     *                                  image sources (CMakeLists.txt, sdk, core, plugins,
     *                                  entrypoint), "" for context_dir itself,
     *                       "ca_cert": path relative to context_dir where the host writes the CA
     *                                  bundle (an empty file when there is none),
     *                       "dockerfile": optional {"from": path, "to": path (both relative to
     *                                  context_dir), "replace": {line: text}} — the host writes
     *                                  `to` as a copy of `from` (after the sources are copied) with
     *                                  each line equal to a key replaced by its text; each key must
     *                                  be a line of `from` exactly once}}
     * RUSTYOLO_INVALID names a bad value (e.g. a package name the build cannot carry). */
    rustyolo_status (*image_build)(void *instance, const char *request_json, const rustyolo_writer *out);

    /* Whether an image reference is fetched from a registry, and how (`rustyolo update --image`).
     * May be NULL (the host then builds the image instead).
     * request: {"runtime": name, "image": reference}
     * result:  {"pull": bool — true when the reference names a registry the engine pulls from;
     *                          false for a local name, which the host builds with image_build,
     *           "argv": [strings] — with "pull": the pull command; the host spawns it (never a
     *                   shell) and checks the image with image_inspect after} */
    rustyolo_status (*image_pull)(void *instance, const char *request_json, const rustyolo_writer *out);
} rustyolo_runtime_hooks;

/* The sizes of the hook tables in ABI 1.0, for the host's struct_size checks. */
#define RUSTYOLO_AUDIT_HOOKS_SIZE_1_0 (offsetof(rustyolo_audit_hooks, read))
#define RUSTYOLO_RUNTIME_HOOKS_SIZE_1_0 (offsetof(rustyolo_runtime_hooks, image_inspect))
#define RUSTYOLO_NETWORK_HOOKS_SIZE_1_0 (offsetof(rustyolo_network_hooks, update))

/* What rustyolo_plugin_entry() returns. [static], with every pointer in it [static]. */
typedef struct rustyolo_plugin_descriptor {
    uint32_t struct_size;
    uint32_t abi_major;       /* the ABI the plugin was built against */
    uint32_t abi_minor;
    const char *name;         /* unique plugin name, [a-z0-9-]+ */
    const char *version;      /* the plugin's own version, free form */
    const char *description;  /* one line */

    /* Creates the instance. host: [static] for the process. Returns NULL on failure, with the
     * reason in last_error(NULL). */
    void *(*create)(const rustyolo_host_api *host);
    /* Destroys the instance. May be NULL. */
    void (*destroy)(void *instance);
    /* The message of the last failed call on `instance` (or of create() when instance is NULL).
     * [instance]; never NULL (returns "" when there is none). */
    const char *(*last_error)(void *instance);

    const rustyolo_agent_hooks *agent;       /* each: [static] or NULL */
    const rustyolo_network_hooks *network;
    const rustyolo_mount_hooks *mount;
    const rustyolo_resource_hooks *resource;
    const rustyolo_syscall_hooks *syscall;
    const rustyolo_audit_hooks *audit;
    const rustyolo_runtime_hooks *runtime;
} rustyolo_plugin_descriptor;

typedef const rustyolo_plugin_descriptor *(*rustyolo_plugin_entry_fn)(uint32_t host_abi_major,
                                                                     uint32_t host_abi_minor);

#ifdef __cplusplus
}
#endif

#endif /* RUSTYOLO_ABI_PLUGIN_ABI_H */
