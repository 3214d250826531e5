/* we_status.h - request outcomes, one to one with the wire's status byte.
 *
 * The numeric values are part of the protocol (docs/protocol.md): never
 * renumber, only append. WE_STATUS_LIST yields the enum and the names.
 */
#ifndef WE_STATUS_H
#define WE_STATUS_H

#define WE_STATUS_LIST(X)                                                               \
	X(OK, 0, "ok")                                                                  \
	X(NOT_FOUND, 1, "key not found")                                                \
	X(BAD_REQUEST, 2, "malformed request entry")                                    \
	X(UNKNOWN_OP, 3, "unknown opcode")                                              \
	X(KEY_TOO_LONG, 4, "key longer than 250 bytes or empty")                       \
	X(VALUE_TOO_LARGE, 5, "value larger than the server accepts")                   \
	X(NO_SPACE, 6, "shard full: no index slot or arena memory left")               \
	X(BUSY, 7, "a queue inside the server is full, retry")                          \
	X(WRONG_OWNER, 8, "region owner could not be reached within the hop limit")     \
	X(UNSUPPORTED, 9, "feature not supported by this server version")               \
	X(BAD_VERSION, 10, "protocol version not supported")                            \
	X(MALFORMED, 11, "datagram structure invalid; nothing executed")                \
	X(NOT_DURABLE, 12, "write could not be made durable")                           \
	X(UNAUTHORIZED, 13, "authentication failed or missing")                         \
	X(NEED_TOKEN, 14, "answer withheld from an unvalidated address: get a token (op TOKEN)") \
	X(IO_ERROR, 15, "the server could not read the value back from its disk tier")

enum we_status {
#define WE_STATUS_ENUM(name, value, text) WE_STATUS_##name = value,
	WE_STATUS_LIST(WE_STATUS_ENUM)
#undef WE_STATUS_ENUM
	WE_STATUS_COUNT
};

/* Short upper-case name ("NOT_FOUND"), or "?" for a value outside the list. */
const char *we_status_name(unsigned status);
/* Human sentence for error messages. */
const char *we_status_text(unsigned status);

#endif
