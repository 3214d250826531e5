/* value_gen.c - the text and json value kinds: phrases, words and JSON
 * records drawn from a seeded stream, written to or compared through a sink.
 *
 * DESIGN: text is a sequence of pieces, each followed by a space, a comma (1
 * in 16) or a period (1 in 16). Seven pieces in eight are phrases from a
 * fixed list of 127 common English phrases ("at the same time"), the eighth
 * a single word from a list of 255 common words ordered by frequency. A rank
 * is drawn log-uniformly: an octave k, then a rank in [2^k - 1, 2^(k+1) - 1),
 * which gives the 1/rank (Zipf) frequencies of real text from a few random
 * bits with no table and no division; for phrases the octave is the smaller
 * of two draws, a steeper skew. Phrases are listed longest first, so the
 * commonest repeats are long ones: that is what LZ4 finds in real text, and
 * it is what brings a 1 KiB value to about half its size (docs/blaster.md,
 * "Value kinds"). The JSON kind adds keys and punctuation that repeat in
 * every event of a record.
 *
 * Speed: list entries are padded to 16 (words) or 32 (phrases) bytes, and
 * while the value has room a piece is copied as the whole padded entry (a
 * fixed-size copy the compiler inlines), the next piece overwriting the tail.
 */
#include "value_gen.h"

#include <string.h>

#include "rng.h"

struct value_word {
	char text[15];
	uint8_t len;
};

struct value_phrase {
	char text[31];
	uint8_t len;
};

#define W(s) {s, sizeof(s) - 1}
static const struct value_word value_words[] = {
	W("the"), W("of"), W("and"), W("to"), W("a"), W("in"), W("is"), W("it"), W("you"),
	W("that"), W("he"), W("was"), W("for"), W("on"), W("are"), W("with"), W("as"), W("his"),
	W("they"), W("be"), W("at"), W("one"), W("have"), W("this"), W("from"), W("or"), W("had"),
	W("by"), W("not"), W("word"), W("but"), W("what"), W("some"), W("we"), W("can"), W("out"),
	W("other"), W("were"), W("all"), W("there"), W("when"), W("up"), W("use"), W("your"),
	W("how"), W("said"), W("an"), W("each"), W("she"), W("which"), W("do"), W("their"),
	W("time"), W("if"), W("will"), W("way"), W("about"), W("many"), W("then"), W("them"),
	W("write"), W("would"), W("like"), W("so"), W("these"), W("her"), W("long"), W("make"),
	W("thing"), W("see"), W("him"), W("two"), W("has"), W("look"), W("more"), W("day"),
	W("could"), W("go"), W("come"), W("did"), W("number"), W("sound"), W("no"), W("most"),
	W("people"), W("my"), W("over"), W("know"), W("water"), W("than"), W("call"), W("first"),
	W("who"), W("may"), W("down"), W("side"), W("been"), W("now"), W("find"), W("any"),
	W("new"), W("work"), W("part"), W("take"), W("get"), W("place"), W("made"), W("live"),
	W("where"), W("after"), W("back"), W("little"), W("only"), W("round"), W("man"), W("year"),
	W("came"), W("show"), W("every"), W("good"), W("me"), W("give"), W("our"), W("under"),
	W("name"), W("very"), W("through"), W("just"), W("form"), W("sentence"), W("great"),
	W("think"), W("say"), W("help"), W("low"), W("line"), W("turn"), W("cause"), W("much"),
	W("mean"), W("before"), W("move"), W("right"), W("boy"), W("old"), W("too"), W("same"),
	W("tell"), W("does"), W("set"), W("three"), W("want"), W("air"), W("well"), W("also"),
	W("play"), W("small"), W("end"), W("put"), W("home"), W("read"), W("hand"), W("large"),
	W("add"), W("even"), W("land"), W("here"), W("must"), W("big"), W("high"), W("such"),
	W("follow"), W("act"), W("why"), W("ask"), W("men"), W("change"), W("went"), W("light"),
	W("kind"), W("off"), W("need"), W("house"), W("picture"), W("try"), W("us"), W("again"),
	W("animal"), W("point"), W("mother"), W("world"), W("near"), W("build"), W("self"),
	W("earth"), W("father"), W("head"), W("stand"), W("own"), W("page"), W("should"),
	W("country"), W("found"), W("answer"), W("school"), W("grow"), W("study"), W("still"),
	W("learn"), W("plant"), W("cover"), W("food"), W("sun"), W("four"), W("between"),
	W("state"), W("keep"), W("eye"), W("never"), W("last"), W("let"), W("thought"), W("city"),
	W("tree"), W("cross"), W("farm"), W("hard"), W("start"), W("might"), W("story"), W("saw"),
	W("far"), W("sea"), W("draw"), W("left"), W("late"), W("run"), W("while"), W("press"),
	W("close"), W("night"), W("real"), W("life"), W("few"), W("north"), W("open"), W("seem"),
	W("together"), W("next"), W("white"), W("children"), W("begin"), W("got"), W("walk"),
	W("example"),
};
#undef W

#define P(s) {s, sizeof(s) - 1}
static const struct value_phrase value_phrases[] = {
	P("at the end of the day"), P("in front of the house"), P("every day of the week"),
	P("the children began to"), P("the light of the sun"), P("the people who live"),
	P("over and over again"), P("we found the answer"), P("as soon as possible"),
	P("for the first time"), P("all over the world"), P("through the window"),
	P("on the other hand"), P("what do you think"), P("from time to time"),
	P("when the water is"), P("near the old farm"), P("a few years later"),
	P("the kind of thing"), P("the mountain road"), P("in the middle of"),
	P("at the same time"), P("she was going to"), P("most of the time"), P("the music of the"),
	P("a small group of"), P("during the night"), P("across the field"), P("the rest of the"),
	P("a lot of people"), P("this is the way"), P("a long time ago"), P("their own house"),
	P("the first thing"), P("his mother said"), P("all of a sudden"), P("the whole story"),
	P("on the way home"), P("let me tell you"), P("the way we work"), P("the far side of"),
	P("the king of the"), P("the car stopped"), P("near the island"), P("more than ever"),
	P("so many things"), P("if you want to"), P("we do not know"), P("the new school"),
	P("because of the"), P("in the morning"), P("under the tree"), P("before the end"),
	P("you should try"), P("keep an eye on"), P("the north side"), P("just like that"),
	P("still not sure"), P("take a look at"), P("come back soon"), P("those who know"),
	P("we saw the sea"), P("in the country"), P("the problem is"), P("the same time"),
	P("they had been"), P("you will find"), P("the number of"), P("would like to"),
	P("write it down"), P("late at night"), P("after the war"), P("left the city"),
	P("one more time"), P("down the road"), P("more and more"), P("three or four"),
	P("up to the top"), P("an example of"), P("read the book"), P("since the war"),
	P("until the end"), P("at least once"), P("it is hard to"), P("the best hour"),
	P("open the door"), P("a strong wind"), P("each of them"), P("by the river"),
	P("to make sure"), P("the world is"), P("can be found"), P("a short walk"),
	P("to the south"), P("the boat was"), P("in order to"), P("there is no"), P("some of the"),
	P("part of the"), P("there was a"), P("it has been"), P("how much it"), P("a good idea"),
	P("no one else"), P("it might be"), P("long before"), P("on the page"), P("the old man"),
	P("one of the"), P("as well as"), P("we can see"), P("as long as"), P("it was not"),
	P("he did not"), P("right here"), P("in the end"), P("as far as"), P("that the"),
	P("and the"), P("for the"), P("of the"), P("in the"), P("to the"), P("on the"), P("at the"),
	P("with a"), P("it is"),
};
#undef P

#define VALUE_WORDS_N (sizeof(value_words) / sizeof(value_words[0]))
#define VALUE_PHRASES_N (sizeof(value_phrases) / sizeof(value_phrases[0]))
_Static_assert(VALUE_WORDS_N == 255, "word ranks are drawn in 0..254");
_Static_assert(VALUE_PHRASES_N == 127, "phrase ranks are drawn in 0..126");

/* ---- the sink ---- */

/* The sink's calls are a few instructions each: inlined, a literal's length
 * is a constant and its copy a move or two. */
#define VALUE_INLINE static inline __attribute__((always_inline))

VALUE_INLINE bool value_sink_open(const struct value_sink *s)
{
	return s->pos < s->len && !s->differs;
}

/* Produce up to n bytes of p: written or compared, cut at the sink's length. */
VALUE_INLINE void value_sink_put(struct value_sink *s, const void *p, uint32_t n)
{
	if (!value_sink_open(s))
		return;
	if (n > s->len - s->pos)
		n = s->len - s->pos;
	if (s->out)
		memcpy(s->out + s->pos, p, n);
	else if (memcmp(s->want + s->pos, p, n) != 0)
		s->differs = true;
	s->pos += n;
}

/* value_sink_put for a piece padded to `pad` readable bytes: one fixed-size
 * copy while the value has room for all of them. */
VALUE_INLINE void value_sink_put_padded(struct value_sink *s, const char *p, uint32_t n,
					 uint32_t pad)
{
	if (s->out && s->pos + pad <= s->len) {
		memcpy(s->out + s->pos, p, pad);
		s->pos += n;
		return;
	}
	value_sink_put(s, p, n);
}

VALUE_INLINE void value_sink_str(struct value_sink *s, const char *text)
{
	value_sink_put(s, text, (uint32_t)strlen(text));
}

/* "00" .. "99": decimal two digits per division, half the dependent chain. */
static const char value_digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* v in decimal (a 10-digit time is most of a JSON value's arithmetic). */
static void value_sink_u64(struct value_sink *s, uint64_t v)
{
	char digits[20];
	unsigned at = sizeof(digits);

	while (v >= 100) {
		at -= 2;
		memcpy(digits + at, value_digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		at -= 2;
		memcpy(digits + at, value_digit_pairs + 2 * v, 2);
	} else {
		digits[--at] = (char)('0' + v);
	}
	value_sink_put(s, digits + at, (uint32_t)(sizeof(digits) - at));
}

/* ---- random bits, a few at a time ---- */

struct value_bits {
	uint64_t state; /* splitmix64 state */
	uint64_t bits;  /* unused bits of the last draw */
	unsigned left;  /* how many */
};

static inline uint32_t value_bits_take(struct value_bits *b, unsigned n)
{
	uint32_t v;

	if (b->left < n) {
		b->bits = rng_splitmix64(&b->state);
		b->left = 64;
	}
	v = (uint32_t)(b->bits & ((1u << n) - 1));
	b->bits >>= n;
	b->left -= n;
	return v;
}

/* A rank in [2^k - 1, 2^(k+1) - 1) of octave k: frequency about 1/rank. */
static inline uint32_t value_rank_in_octave(struct value_bits *b, unsigned k)
{
	return (1u << k) - 1 + (value_bits_take(b, 7) & ((1u << k) - 1));
}

/* A word rank, frequency about 1/rank (eight octaves: 0..254). */
static inline uint32_t value_rank_zipf(struct value_bits *b)
{
	return value_rank_in_octave(b, value_bits_take(b, 3));
}

/* A word rank, every word alike (names). */
static inline uint32_t value_rank_uniform(struct value_bits *b)
{
	uint32_t r = value_bits_take(b, 8);

	return r < VALUE_WORDS_N ? r : 0;
}

static inline void value_sink_word(struct value_sink *s, uint32_t rank)
{
	value_sink_put_padded(s, value_words[rank].text, value_words[rank].len,
			      sizeof(value_words[0]));
}

/* ---- text ---- */

/* One piece: a single word (1 in 8) or a phrase whose octave is the
 * smaller of two draws (0..6), which favours the common phrases further. */
static inline void value_text_piece(struct value_sink *s, struct value_bits *b)
{
	const struct value_phrase *p;
	unsigned k, k2;

	if (value_bits_take(b, 3) == 0) {
		value_sink_word(s, value_rank_zipf(b));
		return;
	}
	k = value_bits_take(b, 3);
	k2 = value_bits_take(b, 3);
	k = k2 < k ? k2 : k;
	p = &value_phrases[value_rank_in_octave(b, k < 7 ? k : 6)];
	value_sink_put_padded(s, p->text, p->len, sizeof(*p));
}

/* After a piece: a comma (1 in 16), a period (1 in 16) or a space. */
static inline void value_text_separator(struct value_sink *s, struct value_bits *b)
{
	static const char seps[3][2] = {{',', ' '}, {'.', ' '}, {' ', ' '}};
	uint32_t sep = value_bits_take(b, 4);

	if (sep > 2)
		sep = 2;
	value_sink_put_padded(s, seps[sep], sep < 2 ? 2 : 1, 2);
}

/* Pieces until the sink's length or `end`, whichever is first. */
static void value_words_until(struct value_sink *s, struct value_bits *b, uint32_t end)
{
	uint32_t len = s->len;

	if (end < len)
		s->len = end;
	while (value_sink_open(s)) {
		value_text_piece(s, b);
		value_text_separator(s, b);
	}
	s->len = len;
}

void value_gen_text(struct value_sink *s, uint64_t seed)
{
	struct value_bits b = {.state = seed};

	value_words_until(s, &b, s->len);
}

/* ---- json ---- */

/* Room one event takes at most: its keys and quotes (39 bytes), a 10-digit
 * time, a kind (8), a ref of two words (17), a 2-digit count, a status and a
 * via (31), a comma. */
#define VALUE_JSON_EVENT_MAX 112

/* Kinds of event, the common first (padded like the words). */
#define W(s) {s, sizeof(s) - 1}
static const struct value_word value_json_kinds[8] = {
	W("view"), W("click"), W("search"), W("login"), W("share"), W("comment"), W("purchase"),
	W("logout"),
};
#undef W

/* The record's user: "w1-w2", and the email "w1.w2@example.com". */
static void value_json_user(struct value_sink *s, struct value_bits *b)
{
	uint32_t first = value_rank_uniform(b), last = value_rank_uniform(b);

	value_sink_str(s, ",\"user\":\"");
	value_sink_word(s, first);
	value_sink_put(s, "-", 1);
	value_sink_word(s, last);
	value_sink_str(s, "\",\"email\":\"");
	value_sink_word(s, first);
	value_sink_put(s, ".", 1);
	value_sink_word(s, last);
	value_sink_str(s, "@example.com\"");
}

static void value_json_head(struct value_sink *s, struct value_bits *b, uint64_t index,
			    uint16_t version)
{
	value_sink_str(s, "{\"id\":");
	value_sink_u64(s, index);
	value_sink_str(s, ",\"v\":");
	value_sink_u64(s, version);
	value_json_user(s, b);
	value_sink_str(s, ",\"score\":");
	value_sink_u64(s, value_bits_take(b, 7));
	value_sink_put(s, ".", 1);
	value_sink_u64(s, 10 + value_bits_take(b, 6) % 90);
	value_sink_str(s, ",\"tags\":[\"");
	value_sink_word(s, value_rank_zipf(b));
	value_sink_str(s, "\",\"");
	value_sink_word(s, value_rank_zipf(b));
	value_sink_str(s, "\"],\"events\":[");
}

/* {"at":T,"kind":"K","ref":"w1-w2","n":N,"status":"ok","via":"web"}; times
 * rise by 1..64 s; status and via are mostly "ok" and "web", as in real
 * logs. */
static void value_json_event(struct value_sink *s, struct value_bits *b, uint64_t *at)
{
	unsigned k = value_bits_take(b, 3), k2 = value_bits_take(b, 3);

	*at += 1 + value_bits_take(b, 6);
	value_sink_str(s, "{\"at\":");
	value_sink_u64(s, *at);
	value_sink_str(s, ",\"kind\":\"");
	value_sink_put_padded(s, value_json_kinds[k2 < k ? k2 : k].text,
			      value_json_kinds[k2 < k ? k2 : k].len, sizeof(value_json_kinds[0]));
	value_sink_str(s, "\",\"ref\":\"");
	value_sink_word(s, value_rank_zipf(b));
	value_sink_put(s, "-", 1);
	value_sink_word(s, value_rank_zipf(b));
	value_sink_str(s, "\",\"n\":");
	value_sink_u64(s, value_bits_take(b, 4));
	value_sink_str(s, value_bits_take(b, 4) ? ",\"status\":\"ok\"" : ",\"status\":\"error\"");
	value_sink_str(s, value_bits_take(b, 2) ? ",\"via\":\"web\"}" : ",\"via\":\"app\"}");
}

/* Events while one more surely fits, then the bio's words pad the object to
 * the exact length. */
void value_gen_json(struct value_sink *s, uint64_t index, uint16_t version, uint64_t seed)
{
	struct value_bits b = {.state = seed};
	uint64_t at = 1700000000u + value_bits_take(&b, 24);

	value_json_head(s, &b, index, version);
	for (unsigned n = 0; value_sink_open(s) && s->pos + VALUE_JSON_EVENT_MAX <= s->len;
	     n++) {
		if (n > 0)
			value_sink_put(s, ",", 1);
		value_json_event(s, &b, &at);
	}
	value_sink_str(s, "],\"bio\":\"");
	if (s->len >= 2)
		value_words_until(s, &b, s->len - 2);
	value_sink_str(s, "\"}");
}
