/*
 * netprobe: a small static probe for the network integration tests. It runs inside the sandbox as
 * the agent (or as root in a control container) and reports what the network lets it do.
 *
 *   netprobe COMMAND ARGS...      run one command, print one result line
 *   netprobe -                    read commands from stdin, one per line; print "R <result>" each
 *
 * Commands (HOST is an IPv4 or IPv6 literal; results are "ok ...", "err <ERRNO>" or "noreply"):
 *   tcp HOST PORT [TIMEOUT_MS]         connect, then read one line       -> ok <line>
 *   udp HOST PORT                      send "probe", wait for one reply  -> ok <line> | noreply
 *   tcppipe SERVER PORT NAME COUNT     DNS over TCP: up to COUNT queries for NAME (type A), written
 *                                      back to back without reading any reply, until COUNT or until
 *                                      the server stops reading for 2 s; the connection stays open
 *                                      until the next tcppipe or exit      -> ok sent=N
 *   udpfrom SOURCE HOST PORT           the same from a socket bound to SOURCE (port 0)
                                                                          -> ok sent | err <ERRNO>
 *   udpports HOST FIRST COUNT          one datagram to each of COUNT ports from FIRST on
 *                                                                        -> ok sent=N refused=M
 *   icmp HOST                          one echo request (ping socket)    -> ok | noreply
 *   dns SERVER PORT udp|tcp NAME TYPE  one query (TYPE A, AAAA, TXT, MX, CNAME, ANY)
 *                                                                        -> ok rcode=N an=ADDR,...
 *   dnsede SERVER PORT udp|tcp NAME TYPE
 *                                      the same with an EDNS OPT record (UDP size 1232); adds the
 *                                      reply's AA bit and its Extended DNS Error, if any
 *                                      -> ok rcode=N tc=T an=... aa=B ede=CODE|- text=EXTRA-TEXT
 *   udpconn HOST PORT                  a connected UDP socket: send "probe", then wait 1.5 s for a
 *                                      reply or an error (an ICMP error shows as the recv's errno)
 *                                      -> ok send=sent|<ERRNO> recv=<line>|<ERRNO>|noreply
 *   dnsfrom SOURCE SPORT SERVER PORT NAME TYPE
 *                                      the same over UDP from a socket bound to SOURCE:SPORT
 *                                      (e.g. the address and port another process just closed)
 *   tcpself PORT                       a local service of its own: listen on 127.0.0.1:PORT, connect
 *                                      to it, the server writes a line, the client reads it, both
 *                                      close                                -> ok <line>
 *   udpsocks UID                       the connected IPv4 UDP sockets of UID, from /proc/net/udp
 *                                      -> ok LOCAL:PORT>REMOTE:PORT,... | ok -
 *   nftnew NAME [FAMILY]               netlink: create / delete table FAMILY (inet, ip, ip6;
 *   nftdel NAME [FAMILY]                 default inet) NAME                 -> ok | err EPERM
 *   dnsanswer ADDR PORT IP MS          a forged DNS server of the agent's own: a child binds UDP
 *                                      ADDR:PORT and, for MS ms, answers every query with one A
 *                                      record IP (TTL 60)                  -> ok | err <ERRNO>
 *   dnsanswerwait                      waits for that child          -> ok got=N sent=M err=E
 *   id                                 -> ok uid=U gid=G
 *   socket FAMILY TYPE PROTO           only creates a socket (numbers; nothing is sent, no connect)
 *                                                                        -> ok | err <ERRNO>
 *   setgid GID                         setgroups([GID]) and setresgid(GID) -> ok gid=G | err EPERM
 *   sleep MS                           -> ok
 * Tests only ever point it at their own test hosts or at this container.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

static char result[2048];

static const char *errname(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ECONNRESET: return "ECONNRESET";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    default: return "EOTHER";
    }
}

static int set_err(int e) {
    snprintf(result, sizeof result, "err %s", errname(e));
    return 1;
}

static int cmd_setgid(const char *text) {
    gid_t gid = (gid_t)strtoul(text, NULL, 10);
    if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0)
        return set_err(errno);
    snprintf(result, sizeof result, "ok gid=%u", (unsigned)getgid());
    return 0;
}

static int parse_host(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return 0;
    }
    snprintf(result, sizeof result, "err bad-address");
    return -1;
}

static void clean_line(char *s) {
    for (char *p = s; *p; ++p) {
        if (*p == '\n' || *p == '\r') {
            *p = 0;
            return;
        }
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
    }
}

/* Connects with a timeout; returns the socket or -1 with errno set. */
static int connect_timeout(int type, const struct sockaddr_storage *ss, socklen_t len, int timeout_ms) {
    int fd = socket(ss->ss_family, type | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)ss, len) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    struct pollfd p = {fd, POLLOUT, 0};
    if (poll(&p, 1, timeout_ms) != 1) {
        close(fd);
        errno = ETIMEDOUT;
        return -1;
    }
    int error = 0;
    socklen_t elen = sizeof error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &elen);
    if (error) {
        close(fd);
        errno = error;
        return -1;
    }
    return fd;
}

static int read_line(int fd, char *buffer, size_t size, int timeout_ms) {
    size_t got = 0;
    while (got + 1 < size) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) != 1)
            break;
        ssize_t n = recv(fd, buffer + got, size - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (memchr(buffer, '\n', got))
            break;
    }
    buffer[got] = 0;
    clean_line(buffer);
    return (int)got;
}

static int cmd_tcp(const char *host, int port, int timeout_ms) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_host(host, port, &ss, &len) < 0)
        return 1;
    int fd = connect_timeout(SOCK_STREAM, &ss, len, timeout_ms);
    if (fd < 0)
        return set_err(errno);
    char line[512];
    read_line(fd, line, sizeof line, 2000);
    close(fd);
    snprintf(result, sizeof result, "ok %s", line);
    return 0;
}

static int cmd_udp(const char *host, int port) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_host(host, port, &ss, &len) < 0)
        return 1;
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return set_err(errno);
    if (sendto(fd, "probe\n", 6, 0, (struct sockaddr *)&ss, len) < 0) {
        int e = errno;
        close(fd);
        return set_err(e);
    }
    char line[512];
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 1500) != 1) {
        close(fd);
        snprintf(result, sizeof result, "noreply");
        return 0;
    }
    ssize_t n = recv(fd, line, sizeof line - 1, 0);
    close(fd);
    if (n < 0)
        return set_err(errno);
    line[n] = 0;
    clean_line(line);
    snprintf(result, sizeof result, "ok %s", line);
    return 0;
}

static int cmd_udpfrom(const char *source, const char *host, int port) {
    struct sockaddr_storage from, to;
    socklen_t from_len, to_len;
    if (parse_host(source, 0, &from, &from_len) < 0 || parse_host(host, port, &to, &to_len) < 0)
        return 1;
    int fd = socket(to.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return set_err(errno);
    if (bind(fd, (struct sockaddr *)&from, from_len) < 0 || sendto(fd, "probe\n", 6, 0, (struct sockaddr *)&to, to_len) < 0) {
        int e = errno;
        close(fd);
        return set_err(e);
    }
    close(fd);
    snprintf(result, sizeof result, "ok sent");
    return 0;
}

static int cmd_tcpself(int port) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_host("127.0.0.1", port, &ss, &len) < 0)
        return 1;
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (listener < 0)
        return set_err(errno);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listener, (struct sockaddr *)&ss, len) < 0 || listen(listener, 1) < 0) {
        int e = errno;
        close(listener);
        return set_err(e);
    }
    int client = connect_timeout(SOCK_STREAM, &ss, len, 3000);
    if (client < 0) {
        int e = errno;
        close(listener);
        return set_err(e);
    }
    struct pollfd p = {listener, POLLIN, 0};
    int server = poll(&p, 1, 3000) == 1 ? accept(listener, NULL, NULL) : -1;
    if (server < 0) {
        close(client);
        close(listener);
        return set_err(ETIMEDOUT);
    }
    const char hello[] = "hello from the agent itself\n";
    ssize_t sent = send(server, hello, sizeof hello - 1, MSG_NOSIGNAL);
    char line[128];
    read_line(client, line, sizeof line, 2000);
    close(client);
    close(server);
    close(listener);
    if (sent < 0)
        return set_err(EPIPE);
    snprintf(result, sizeof result, "ok %s", line);
    return 0;
}

/* Sends `count` one-packet datagrams to host:port from one socket, as fast as it can (the audit
 * flood test): "ok sent=N refused=M" (refused: sendto failed, e.g. EPERM from a firewall drop). */
static int cmd_udpflood(const char *host, int port, long count) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_host(host, port, &ss, &len) < 0)
        return 1;
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return set_err(errno);
    long sent = 0, refused = 0;
    for (long i = 0; i < count; i++) {
        if (sendto(fd, "flood\n", 6, 0, (struct sockaddr *)&ss, len) < 0)
            refused++;
        else
            sent++;
    }
    close(fd);
    snprintf(result, sizeof result, "ok sent=%ld refused=%ld", sent, refused);
    return 0;
}

/* Sends one datagram to each of `count` ports from `first` on (first, first+1, ...) of host, from
 * one socket (the audit test's flood of distinct keys): "ok sent=N refused=M". */
static int cmd_udpports(const char *host, int first, long count) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (first < 1 || count < 0 || first + count - 1 > 65535) {
        snprintf(result, sizeof result, "err ports out of range");
        return 1;
    }
    if (parse_host(host, first, &ss, &len) < 0)
        return 1;
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return set_err(errno);
    long sent = 0, refused = 0;
    for (long i = 0; i < count; i++) {
        uint16_t port = htons((uint16_t)(first + i));
        if (ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = port;
        else
            ((struct sockaddr_in6 *)&ss)->sin6_port = port;
        if (sendto(fd, "ports\n", 6, 0, (struct sockaddr *)&ss, len) < 0)
            refused++;
        else
            sent++;
    }
    close(fd);
    snprintf(result, sizeof result, "ok sent=%ld refused=%ld", sent, refused);
    return 0;
}

static int cmd_icmp(const char *host) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_host(host, 0, &ss, &len) < 0)
        return 1;
    int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (fd < 0)
        return set_err(errno);
    struct icmphdr echo;
    memset(&echo, 0, sizeof echo);
    echo.type = ICMP_ECHO;
    echo.un.echo.sequence = htons(1);
    if (sendto(fd, &echo, sizeof echo, 0, (struct sockaddr *)&ss, len) < 0) {
        int e = errno;
        close(fd);
        return set_err(e);
    }
    struct pollfd p = {fd, POLLIN, 0};
    int ready = poll(&p, 1, 1500);
    close(fd);
    snprintf(result, sizeof result, ready == 1 ? "ok" : "noreply");
    return 0;
}

/* ---- DNS (hand-made on purpose: this is a test probe, the filter itself uses ldns) ---- */

static int qtype_of(const char *name) {
    if (!strcmp(name, "A")) return 1;
    if (!strcmp(name, "CNAME")) return 5;
    if (!strcmp(name, "MX")) return 15;
    if (!strcmp(name, "TXT")) return 16;
    if (!strcmp(name, "AAAA")) return 28;
    if (!strcmp(name, "ANY")) return 255;
    return atoi(name);
}

/* Set while a `dnsede` query runs: the query carries an OPT record, the result its EDE. */
static int want_edns = 0;

static size_t skip_name(const unsigned char *m, size_t size, size_t at);

/* Steps over the record at *at to its RDATA: its type and RDLENGTH; 0 if the message ends first. */
static int next_record(const unsigned char *m, size_t size, size_t *at, unsigned *type, unsigned *rdlength) {
    *at = skip_name(m, size, *at);
    if (*at + 10 > size)
        return 0;
    *type = (unsigned)(m[*at] << 8 | m[*at + 1]);
    *rdlength = (unsigned)(m[*at + 8] << 8 | m[*at + 9]);
    *at += 10;
    return *at + *rdlength <= size;
}

static size_t build_query(unsigned char *out, const char *name, int qtype, uint16_t id) {
    size_t at = 0;
    out[at++] = (unsigned char)(id >> 8);
    out[at++] = (unsigned char)(id & 0xff);
    out[at++] = 0x01; /* RD */
    out[at++] = 0x00;
    out[at++] = 0; out[at++] = 1; /* qdcount */
    memset(out + at, 0, 6);
    at += 6;
    const char *label = name;
    while (*label) {
        const char *dot = strchr(label, '.');
        size_t n = dot ? (size_t)(dot - label) : strlen(label);
        if (n == 0 || n > 63)
            break;
        out[at++] = (unsigned char)n;
        memcpy(out + at, label, n);
        at += n;
        label += n + (dot ? 1 : 0);
    }
    out[at++] = 0;
    out[at++] = (unsigned char)(qtype >> 8);
    out[at++] = (unsigned char)(qtype & 0xff);
    out[at++] = 0; out[at++] = 1; /* IN */
    if (want_edns) {
        out[11] = 1; /* arcount */
        static const unsigned char opt[] = {0, 0, 41, 1232 >> 8, 1232 & 0xff, 0, 0, 0, 0, 0, 0};
        memcpy(out + at, opt, sizeof opt);
        at += sizeof opt;
    }
    return at;
}

/* Appends " aa=B ede=CODE text=TEXT" (ede=- without one) from the reply's OPT record. */
static void describe_edns(const unsigned char *m, size_t size) {
    unsigned counts[3] = {(unsigned)(m[6] << 8 | m[7]), (unsigned)(m[8] << 8 | m[9]), (unsigned)(m[10] << 8 | m[11])};
    size_t at = 12;
    for (unsigned i = 0; i < (unsigned)(m[4] << 8 | m[5]) && at < size; ++i)
        at = skip_name(m, size, at) + 4;
    int code = -1;
    char text[512] = "";
    for (int section = 0; section < 3; ++section)
        for (unsigned i = 0; i < counts[section] && at < size; ++i) {
            unsigned type, rdlength;
            if (!next_record(m, size, &at, &type, &rdlength))
                break;
            for (size_t o = at; section == 2 && type == 41 && o + 4 <= at + rdlength;) {
                unsigned option = (unsigned)(m[o] << 8 | m[o + 1]), length = (unsigned)(m[o + 2] << 8 | m[o + 3]);
                if (o + 4 + length > at + rdlength)
                    break;
                if (option == 15 && length >= 2) {
                    code = m[o + 4] << 8 | m[o + 5];
                    size_t n = length - 2 < sizeof text - 1 ? length - 2 : sizeof text - 1;
                    memcpy(text, m + o + 6, n);
                    text[n] = 0;
                    clean_line(text);
                }
                o += 4 + length;
            }
            at += rdlength;
        }
    size_t used = strlen(result);
    if (code < 0)
        snprintf(result + used, sizeof result - used, " aa=%d ede=- text=", (m[2] & 0x04) != 0);
    else
        snprintf(result + used, sizeof result - used, " aa=%d ede=%d text=%s", (m[2] & 0x04) != 0, code, text);
}

static size_t skip_name(const unsigned char *m, size_t size, size_t at) {
    while (at < size) {
        unsigned char n = m[at];
        if (n == 0)
            return at + 1;
        if ((n & 0xc0) == 0xc0)
            return at + 2;
        at += 1 + n;
    }
    return size;
}

static void describe_reply(const unsigned char *m, size_t size) {
    if (size < 12) {
        snprintf(result, sizeof result, "err short-reply");
        return;
    }
    int rcode = m[3] & 0x0f;
    int tc = (m[2] & 0x02) != 0;
    unsigned qd = (unsigned)(m[4] << 8 | m[5]), an = (unsigned)(m[6] << 8 | m[7]);
    size_t at = 12;
    for (unsigned i = 0; i < qd && at < size; ++i)
        at = skip_name(m, size, at) + 4;
    char list[1024] = "";
    for (unsigned i = 0; i < an && at + 10 <= size; ++i) {
        unsigned type, rdlength;
        if (!next_record(m, size, &at, &type, &rdlength))
            break;
        char text[INET6_ADDRSTRLEN] = "";
        if (type == 1 && rdlength == 4)
            inet_ntop(AF_INET, m + at, text, sizeof text);
        else if (type == 28 && rdlength == 16)
            inet_ntop(AF_INET6, m + at, text, sizeof text);
        else if (type == 5)
            snprintf(text, sizeof text, "CNAME");
        else
            snprintf(text, sizeof text, "TYPE%u", type);
        if (strlen(list) + strlen(text) + 2 < sizeof list) {
            if (*list)
                strcat(list, ",");
            strcat(list, text);
        }
        at += rdlength;
    }
    snprintf(result, sizeof result, "ok rcode=%d tc=%d an=%s", rcode, tc, *list ? list : "-");
    if (want_edns)
        describe_edns(m, size);
}

static int pipe_fd = -1;

static int cmd_tcppipe(const char *server, int port, const char *name, long count) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_host(server, port, &ss, &len) < 0)
        return 1;
    if (pipe_fd >= 0)
        close(pipe_fd);
    pipe_fd = connect_timeout(SOCK_STREAM, &ss, len, 3000);
    if (pipe_fd < 0)
        return set_err(errno);
    fcntl(pipe_fd, F_SETFL, fcntl(pipe_fd, F_GETFL) | O_NONBLOCK);
    unsigned char one[600];
    size_t qlen = build_query(one + 2, name, 1, 0x4242);
    one[0] = (unsigned char)(qlen >> 8);
    one[1] = (unsigned char)(qlen & 0xff);
    enum { batch = 256 };
    static unsigned char chunk[batch * 600];
    size_t each = qlen + 2;
    for (int i = 0; i < batch; ++i)
        memcpy(chunk + (size_t)i * each, one, each);
    long sent = 0;        /* whole queries */
    size_t partial = 0;   /* bytes of the current chunk already written */
    while (sent < count) {
        long in_chunk = count - sent < batch ? count - sent : batch;
        size_t total = (size_t)in_chunk * each;
        ssize_t n = send(pipe_fd, chunk + partial, total - partial, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return set_err(errno);
            struct pollfd p = {pipe_fd, POLLOUT, 0};
            if (poll(&p, 1, 2000) != 1)
                break; /* the server stopped reading */
            continue;
        }
        partial += (size_t)n;
        if (partial == total) {
            sent += in_chunk;
            partial = 0;
        }
    }
    snprintf(result, sizeof result, "ok sent=%ld", sent + (long)(partial / each));
    return 0;
}

/* One query; over UDP from `from` when it is given. */
static int dns_query(const struct sockaddr_storage *from, socklen_t from_len, const char *server, int port,
                     const char *proto, const char *name, const char *type) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_host(server, port, &ss, &len) < 0)
        return 1;
    unsigned char query[600], reply[65536];
    uint16_t id = 0;
    if (getrandom(&id, sizeof id, 0) != sizeof id)
        id = (uint16_t)getpid();
    size_t qlen = build_query(query + 2, name, qtype_of(type), id);
    if (!strcmp(proto, "tcp")) {
        query[0] = (unsigned char)(qlen >> 8);
        query[1] = (unsigned char)(qlen & 0xff);
        int fd = connect_timeout(SOCK_STREAM, &ss, len, 3000);
        if (fd < 0)
            return set_err(errno);
        if (send(fd, query, qlen + 2, MSG_NOSIGNAL) < 0) {
            int e = errno;
            close(fd);
            return set_err(e);
        }
        size_t got = 0;
        while (got < 2 || got < 2 + (size_t)(reply[0] << 8 | reply[1])) {
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 4000) != 1)
                break;
            ssize_t n = recv(fd, reply + got, sizeof reply - got, 0);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        close(fd);
        if (got < 2) {
            snprintf(result, sizeof result, "noreply");
            return 0;
        }
        describe_reply(reply + 2, got - 2);
        return 0;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return set_err(errno);
    if ((from && bind(fd, (const struct sockaddr *)from, from_len) < 0) ||
        sendto(fd, query + 2, qlen, 0, (struct sockaddr *)&ss, len) < 0) {
        int e = errno;
        close(fd);
        return set_err(e);
    }
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 4000) != 1) {
        close(fd);
        snprintf(result, sizeof result, "noreply");
        return 0;
    }
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    close(fd);
    if (n < 0)
        return set_err(errno);
    describe_reply(reply, (size_t)n);
    return 0;
}

static int cmd_dns(const char *server, int port, const char *proto, const char *name, const char *type) {
    return dns_query(NULL, 0, server, port, proto, name, type);
}

static int cmd_dnsede(const char *server, int port, const char *proto, const char *name, const char *type) {
    want_edns = 1;
    int rc = dns_query(NULL, 0, server, port, proto, name, type);
    want_edns = 0;
    return rc;
}

static int cmd_udpconn(const char *host, int port) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_host(host, port, &ss, &len) < 0)
        return 1;
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0)
        return set_err(errno);
    char sent[32] = "sent", received[600] = "noreply";
    if (send(fd, "probe\n", 6, 0) < 0)
        snprintf(sent, sizeof sent, "%s", errname(errno));
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 1500) == 1) {
        char line[512];
        ssize_t n = recv(fd, line, sizeof line - 1, MSG_DONTWAIT);
        if (n < 0) {
            snprintf(received, sizeof received, "%s", errname(errno));
        } else {
            line[n] = 0;
            clean_line(line);
            snprintf(received, sizeof received, "%s", line);
        }
    }
    close(fd);
    snprintf(result, sizeof result, "ok send=%s recv=%s", sent, received);
    return 0;
}

static int cmd_dnsfrom(const char *source, int source_port, const char *server, int port, const char *name,
                       const char *type) {
    struct sockaddr_storage from;
    socklen_t from_len;
    if (parse_host(source, source_port, &from, &from_len) < 0)
        return 1;
    return dns_query(&from, from_len, server, port, "udp", name, type);
}

/* /proc/net/udp: "sl local_address rem_address st ... uid ...", addresses as hex (little-endian
 * IPv4 on x86) and ports as hex. Lists the sockets of `uid` with a remote address. */
static int cmd_udpsocks(const char *uid_text) {
    FILE *f = fopen("/proc/net/udp", "r");
    if (!f)
        return set_err(errno);
    unsigned long want = strtoul(uid_text, NULL, 10);
    char line[512], list[1536] = "";
    if (!fgets(line, sizeof line, f)) { /* the header */
        fclose(f);
        return set_err(EINVAL);
    }
    while (fgets(line, sizeof line, f)) {
        unsigned local_ip, local_port, remote_ip, remote_port, state;
        unsigned long uid;
        if (sscanf(line, " %*d: %8x:%4x %8x:%4x %2x %*x:%*x %*x:%*x %*x %lu", &local_ip, &local_port, &remote_ip,
                   &remote_port, &state, &uid) != 6 || uid != want || remote_port == 0)
            continue;
        struct in_addr l = {local_ip}, r = {remote_ip};
        char ltext[INET_ADDRSTRLEN], rtext[INET_ADDRSTRLEN], entry[96];
        inet_ntop(AF_INET, &l, ltext, sizeof ltext);
        inet_ntop(AF_INET, &r, rtext, sizeof rtext);
        snprintf(entry, sizeof entry, "%s%s:%u>%s:%u", *list ? "," : "", ltext, local_port, rtext, remote_port);
        if (strlen(list) + strlen(entry) < sizeof list)
            strcat(list, entry);
    }
    fclose(f);
    snprintf(result, sizeof result, "ok %s", *list ? list : "-");
    return 0;
}

/* ---- nf_tables over netlink: one batch with one table message ---- */

static size_t put_msg(unsigned char *buf, size_t at, uint16_t type, uint16_t flags, uint32_t seq, uint8_t family,
                      uint16_t res_id, const char *table) {
    struct nlmsghdr *h = (struct nlmsghdr *)(buf + at);
    size_t start = at;
    memset(h, 0, NLMSG_HDRLEN);
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = seq;
    at += NLMSG_HDRLEN;
    struct nfgenmsg *g = (struct nfgenmsg *)(buf + at);
    g->nfgen_family = family;
    g->version = NFNETLINK_V0;
    g->res_id = htons(res_id);
    at += NLMSG_ALIGN(sizeof *g);
    if (table) {
        struct nlattr *a = (struct nlattr *)(buf + at);
        size_t n = strlen(table) + 1;
        a->nla_type = NFTA_TABLE_NAME;
        a->nla_len = (uint16_t)(NLA_HDRLEN + n);
        memcpy(buf + at + NLA_HDRLEN, table, n);
        at += NLA_ALIGN(a->nla_len);
    }
    h->nlmsg_len = (uint32_t)(at - start);
    return at;
}

static int family_of(const char *name) {
    if (!strcmp(name, "ip")) return NFPROTO_IPV4;
    if (!strcmp(name, "ip6")) return NFPROTO_IPV6;
    return NFPROTO_INET;
}

static int cmd_nft(const char *table, int create, int family) {
    int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
    if (fd < 0)
        return set_err(errno);
    unsigned char buf[1024];
    memset(buf, 0, sizeof buf);
    size_t at = 0;
    at = put_msg(buf, at, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 1, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, NULL);
    uint16_t type = (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | (create ? NFT_MSG_NEWTABLE : NFT_MSG_DELTABLE));
    uint16_t flags = NLM_F_REQUEST | NLM_F_ACK | (create ? NLM_F_CREATE : 0);
    at = put_msg(buf, at, type, flags, 2, (uint8_t)family, 0, table);
    at = put_msg(buf, at, NFNL_MSG_BATCH_END, NLM_F_REQUEST, 3, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, NULL);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, buf, at, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        int e = errno;
        close(fd);
        return set_err(e);
    }
    unsigned char reply[8192];
    struct pollfd p = {fd, POLLIN, 0};
    int error = ETIMEDOUT;
    while (poll(&p, 1, 2000) == 1) {
        ssize_t n = recv(fd, reply, sizeof reply, 0);
        if (n <= 0)
            break;
        for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = (struct nlmsgerr *)NLMSG_DATA(h);
                error = -e->error;
                goto done;
            }
        }
    }
done:
    close(fd);
    if (error == 0) {
        snprintf(result, sizeof result, "ok");
        return 0;
    }
    return set_err(error);
}

static int answer_pipe = -1;
static pid_t answer_child = -1;

static int cmd_dnsanswer(const char *addr, int port, const char *ip, int ms) {
    struct sockaddr_storage ss;
    socklen_t len;
    struct in_addr forged;
    if (parse_host(addr, port, &ss, &len) < 0)
        return 1;
    if (inet_pton(AF_INET, ip, &forged) != 1) {
        snprintf(result, sizeof result, "err bad-address");
        return 1;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return set_err(errno);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        int e = errno;
        close(fd);
        return set_err(e);
    }
    int fds[2];
    if (pipe(fds) != 0)
        return set_err(errno);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        int got = 0, sent = 0, err = 0;
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            long left = ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
            if (left <= 0)
                break;
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, (int)left) != 1)
                continue;
            unsigned char q[512];
            struct sockaddr_storage peer;
            socklen_t plen = sizeof peer;
            ssize_t n = recvfrom(fd, q, sizeof q - 16, 0, (struct sockaddr *)&peer, &plen);
            if (n < 12)
                continue;
            ++got;
            /* the question ends after the name's zero label, QTYPE and QCLASS */
            size_t at = 12;
            while (at < (size_t)n && q[at])
                at += (size_t)q[at] + 1;
            at += 5;
            if (at > (size_t)n)
                continue;
            q[2] = 0x81; q[3] = 0x80;                  /* response, RD, RA, NOERROR */
            q[6] = 0; q[7] = 1; q[8] = q[9] = q[10] = q[11] = 0;
            unsigned char rr[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
            memcpy(rr + 12, &forged, 4);
            memcpy(q + at, rr, 16);
            if (sendto(fd, q, at + 16, 0, (struct sockaddr *)&peer, plen) < 0)
                err = errno;
            else
                ++sent;
        }
        char line[128];
        int k = snprintf(line, sizeof line, "ok got=%d sent=%d err=%s", got, sent, err ? errname(err) : "-");
        ssize_t ignored = write(fds[1], line, (size_t)k);
        (void)ignored;
        _exit(0);
    }
    close(fd);
    close(fds[1]);
    if (pid < 0)
        return set_err(errno);
    answer_pipe = fds[0];
    answer_child = pid;
    snprintf(result, sizeof result, "ok");
    return 0;
}

static int cmd_dnsanswerwait(void) {
    if (answer_pipe < 0) {
        snprintf(result, sizeof result, "err usage");
        return 2;
    }
    ssize_t n = read(answer_pipe, result, sizeof result - 1);
    result[n > 0 ? n : 0] = 0;
    close(answer_pipe);
    answer_pipe = -1;
    waitpid(answer_child, NULL, 0);
    if (n <= 0)
        snprintf(result, sizeof result, "err no-report");
    return 0;
}

/* An open TCP connection kept across commands (hold / holdcheck): a live deny must end it. */
static int hold_fd = -1;

static int cmd_hold(const char *host, int port) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_host(host, port, &ss, &len) < 0)
        return 1;
    if (hold_fd >= 0)
        close(hold_fd);
    hold_fd = connect_timeout(SOCK_STREAM, &ss, len, 3000);
    if (hold_fd < 0)
        return set_err(errno);
    char line[512];
    read_line(hold_fd, line, sizeof line, 2000);
    snprintf(result, sizeof result, "ok %s", line);
    return 0;
}

/* Sends a line on the held connection and reads the echo: "ok <echo>", "closed", or "err <errno>". */
static int cmd_holdcheck(void) {
    if (hold_fd < 0) {
        snprintf(result, sizeof result, "err usage");
        return 2;
    }
    if (send(hold_fd, "ping\n", 5, MSG_NOSIGNAL) < 0)
        return set_err(errno);
    char line[512];
    struct pollfd p = {hold_fd, POLLIN, 0};
    if (poll(&p, 1, 3000) != 1) {
        snprintf(result, sizeof result, "noreply");
        return 0;
    }
    ssize_t n = recv(hold_fd, line, sizeof line - 1, 0);
    if (n < 0)
        return set_err(errno);
    if (n == 0) {
        snprintf(result, sizeof result, "closed");
        return 0;
    }
    line[n] = 0;
    clean_line(line);
    snprintf(result, sizeof result, "ok %s", line);
    return 0;
}

/* connect() to a Unix socket path: what the agent can reach of the host's sockets. */
static int cmd_unixconnect(const char *path) {
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun.sun_path) {
        snprintf(result, sizeof result, "err usage");
        return 2;
    }
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return set_err(errno);
    int rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
    int e = errno;
    close(fd);
    if (rc < 0)
        return set_err(e);
    snprintf(result, sizeof result, "ok");
    return 0;
}

static int run(int argc, char **argv) {
    result[0] = 0;
    if (argc < 1) {
        snprintf(result, sizeof result, "err usage");
        return 2;
    }
    const char *c = argv[0];
    if (!strcmp(c, "tcp") && argc >= 3)
        return cmd_tcp(argv[1], atoi(argv[2]), argc >= 4 ? atoi(argv[3]) : 3000);
    if (!strcmp(c, "udp") && argc >= 3)
        return cmd_udp(argv[1], atoi(argv[2]));
    if (!strcmp(c, "icmp") && argc >= 2)
        return cmd_icmp(argv[1]);
    if (!strcmp(c, "tcppipe") && argc >= 5)
        return cmd_tcppipe(argv[1], atoi(argv[2]), argv[3], atol(argv[4]));
    if (!strcmp(c, "udpfrom") && argc >= 4)
        return cmd_udpfrom(argv[1], argv[2], atoi(argv[3]));
    if (!strcmp(c, "udpflood") && argc >= 4)
        return cmd_udpflood(argv[1], atoi(argv[2]), atol(argv[3]));
    if (!strcmp(c, "udpports") && argc >= 4)
        return cmd_udpports(argv[1], atoi(argv[2]), atol(argv[3]));
    if (!strcmp(c, "dns") && argc >= 6)
        return cmd_dns(argv[1], atoi(argv[2]), argv[3], argv[4], argv[5]);
    if (!strcmp(c, "dnsede") && argc >= 6)
        return cmd_dnsede(argv[1], atoi(argv[2]), argv[3], argv[4], argv[5]);
    if (!strcmp(c, "udpconn") && argc >= 3)
        return cmd_udpconn(argv[1], atoi(argv[2]));
    if (!strcmp(c, "dnsfrom") && argc >= 7)
        return cmd_dnsfrom(argv[1], atoi(argv[2]), argv[3], atoi(argv[4]), argv[5], argv[6]);
    if (!strcmp(c, "tcpself") && argc >= 2)
        return cmd_tcpself(atoi(argv[1]));
    if (!strcmp(c, "udpsocks") && argc >= 2)
        return cmd_udpsocks(argv[1]);
    if (!strcmp(c, "nftnew") && argc >= 2)
        return cmd_nft(argv[1], 1, family_of(argc >= 3 ? argv[2] : "inet"));
    if (!strcmp(c, "nftdel") && argc >= 2)
        return cmd_nft(argv[1], 0, family_of(argc >= 3 ? argv[2] : "inet"));
    if (!strcmp(c, "setgid") && argc >= 2)
        return cmd_setgid(argv[1]);
    if (!strcmp(c, "dnsanswer") && argc >= 5)
        return cmd_dnsanswer(argv[1], atoi(argv[2]), argv[3], atoi(argv[4]));
    if (!strcmp(c, "dnsanswerwait"))
        return cmd_dnsanswerwait();
    if (!strcmp(c, "socket") && argc >= 4) {
        int fd = socket(atoi(argv[1]), atoi(argv[2]), atoi(argv[3]));
        if (fd < 0)
            return set_err(errno);
        close(fd);
        snprintf(result, sizeof result, "ok");
        return 0;
    }
    if (!strcmp(c, "hold") && argc >= 3)
        return cmd_hold(argv[1], atoi(argv[2]));
    if (!strcmp(c, "holdcheck"))
        return cmd_holdcheck();
    if (!strcmp(c, "unixconnect") && argc >= 2)
        return cmd_unixconnect(argv[1]);
    if (!strcmp(c, "pid")) {
        snprintf(result, sizeof result, "ok pid=%d", (int)getpid());
        return 0;
    }
    if (!strcmp(c, "id")) {
        snprintf(result, sizeof result, "ok uid=%u gid=%u", (unsigned)getuid(), (unsigned)getgid());
        return 0;
    }
    if (!strcmp(c, "sleep") && argc >= 2) {
        usleep((useconds_t)atoi(argv[1]) * 1000);
        snprintf(result, sizeof result, "ok");
        return 0;
    }
    snprintf(result, sizeof result, "err usage");
    return 2;
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "-")) {
        char line[1024];
        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("R ready\n");
        fflush(stdout);
        while (fgets(line, sizeof line, stdin)) {
            char *words[16];
            int n = 0;
            for (char *w = strtok(line, " \t\r\n"); w && n < 16; w = strtok(NULL, " \t\r\n"))
                words[n++] = w;
            if (n == 0)
                continue;
            if (!strcmp(words[0], "exit"))
                break;
            run(n, words);
            printf("R %s\n", result);
            fflush(stdout);
        }
        return 0;
    }
    int rc = run(argc - 1, argv + 1);
    printf("%s\n", result);
    return rc;
}
