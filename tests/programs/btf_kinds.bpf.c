// Exercises every BTF kind clang-14 emits, for the BTF parser and C writer tests:
// INT, PTR, ARRAY, STRUCT, UNION (bitfields, kind_flag), ENUM (signed and unsigned), FWD,
// TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG.
// (clang-14 cannot emit ENUM64; the tests build that kind with BtfBuilder.)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user_ptr __attribute__((btf_type_tag("user")))

struct opaque;

enum color { RED = 0, GREEN = 1, BLUE = 4000000000u };
enum delta { DOWN = -1, SAME = 0, UP = 1 };

typedef unsigned long long counter_t;
typedef int (*callback_t)(void *context, const char *text);

struct flags {
	unsigned int ready : 1;
	unsigned int mode : 3;
	int level : 12;
	unsigned long long big : 40;
};

union value {
	long long as_long;
	double as_double;
	unsigned char bytes[8];
};

struct record {
	int id __tag("identifier");
	const volatile char name[16];
	struct flags flags;
	union value value;
	enum color color;
	enum delta delta;
	float ratio;
	struct opaque *hidden;
	int *__user_ptr user_data;
	struct record *next;
	callback_t callback;
	counter_t counts[2][3];
	struct {
		short x, y;
	} point;
	union {
		int as_int;
		unsigned int as_uint;
	};
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct record);
} records SEC(".maps");

volatile int global_counter = 0;
const volatile int config_value = 7;
char scratch[32];

static __attribute__((noinline)) int helper_sum(int *restrict left, int *restrict right) __tag("helper")
{
	return *left + *right;
}

SEC("xdp")
int kinds_program(struct xdp_md *ctx)
{
	__u32 key = 1;
	struct record *record = bpf_map_lookup_elem(&records, &key);
	int a = 1, b = config_value;

	if (!record)
		return XDP_PASS;
	global_counter += helper_sum(&a, &b) + record->flags.mode;
	scratch[0] = (char)record->id;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
