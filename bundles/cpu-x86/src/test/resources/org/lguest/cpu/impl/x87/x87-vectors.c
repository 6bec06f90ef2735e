// x87 reference vectors, recorded on the real CPU (x86-64 user mode; FNSAVE gives the 32-bit protected-mode image).
// Each line: opcode modrm memtype setup cw eflagsIn aSe aSig bSe bSig memLo memHi  sw tw st0 st1 st2 (se sig) memLo memHi eflagsOut
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
typedef struct { uint64_t m; uint16_t se; } __attribute__((packed)) f80;
static uint64_t rs = 88172645463325252ULL;
static uint64_t rnd(void){ rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
static int rn(int n){ return (int)(rnd() % (uint64_t)n); }

static uint64_t rsig(void){
  switch (rn(8)) {
    case 0: return 0x8000000000000000ULL | (rnd() & ~((1ULL << rn(64)) - 1));
    case 1: return 0xFFFFFFFFFFFFFFFFULL ^ (rnd() & ((1ULL<<rn(64))-1) & ((rn(2))?0:~0ULL));
    case 2: return 0x8000000000000000ULL | (1ULL << rn(63));
    case 3: return 0x8000000000000000ULL | (rnd() & 0xFFFFFFFFFF000000ULL) | (rn(2) ? 0x8000000000ULL : 0x7FFFFFFFFFULL);
    case 4: return 0x8000000000000000ULL | (rnd() & 0xFFFFFFFFFFFFF800ULL) | (rn(2) ? 0x400ULL : 0x3FFULL);
    default: return 0x8000000000000000ULL | rnd();
  }
}
static f80 rval(void){
  f80 f; int s = rn(2) << 15; f.m = rsig();
  int k = rn(100);
  if (k < 45) { f.se = s | (0x3FFF - 40 + rn(80)); }
  else if (k < 55) { f.se = s | (0x3FFF + rn(64)); }
  else if (k < 60) { f.se = s | (1 + rn(70)); }
  else if (k < 65) { f.se = s | (0x7FFE - rn(70)); }
  else if (k < 70) { f.se = s; f.m &= 0x7FFFFFFFFFFFFFFFULL; f.m >>= rn(64); }
  else if (k < 71) { f.se = s; }
  else if (k < 78) { f.se = s; f.m = 0; }
  else if (k < 82) { f.se = s | 0x7FFF; f.m = 0x8000000000000000ULL; }
  else if (k < 85) { f.se = s | 0x7FFF; f.m |= 0xC000000000000000ULL; }
  else if (k < 88) { f.se = s | 0x7FFF; f.m = (f.m & 0xBFFFFFFFFFFFFFFFULL) | 1; }
  else if (k < 89) { f.se = s | (1 + rn(0x7FFE)); f.m &= 0x7FFFFFFFFFFFFFFFULL; }
  else if (k < 90) { f.se = s | 0x7FFF; f.m &= 0x7FFFFFFFFFFFFFFFULL; }
  else if (k < 95) { f.se = s | (0x3FFF + rn(3) - 1); }
  else { f.se = s | (0x3FFF - 16383 + 64 + rn(200)); }
  return f;
}
enum { MT_NONE, MT_M32, MT_M64, MT_I16, MT_I32, MT_I64, MT_BCD, MT_M80 };
static void rmem(int mt, uint64_t *lo, uint16_t *hi){
  uint64_t r = rnd();
  *hi = 0xAAAA;
  switch (mt) {
    case MT_M32: switch (rn(6)) { case 0: r &= 0x807FFFFF; break; case 1: r |= 0x7F800000; break; case 2: r = (r & 0x807FFFFF) | ((0x3F + rn(130)) << 23); break; case 3: r &= 0x80FFFFFF; break; } r &= 0xFFFFFFFF; r |= 0xAAAAAAAA00000000ULL; break;
    case MT_M64: switch (rn(6)) { case 0: r &= 0x800FFFFFFFFFFFFFULL; break; case 1: r |= 0x7FF0000000000000ULL; break; case 2: r = (r & 0x800FFFFFFFFFFFFFULL) | ((uint64_t)(0x3C0 + rn(130)) << 52); break; } break;
    case MT_I16: r = (rn(3) == 0 ? (r & 0xFFFF) : (uint16_t)(int16_t)(rn(200) - 100)) | 0xAAAAAAAAAAAA0000ULL; break;
    case MT_I32: r = (rn(3) == 0 ? (r & 0xFFFFFFFF) : (uint32_t)(int32_t)(rn(2000) - 1000)) | 0xAAAAAAAA00000000ULL; break;
    case MT_I64: switch (rn(5)) { case 0: r >>= rn(64); break; case 1: r = 0x8000000000000000ULL + rn(3) - 1; break; case 2: r = (uint64_t)(int64_t)(rn(2000) - 1000); break; } break;
    case MT_BCD: { uint64_t v = 0; for (int d = 0; d < 16; d++) v |= (uint64_t)(rn(4) ? rn(10) : 0) << (4*d); if (rn(10)==0) v = r; r = v; *hi = (rn(2) ? 0x8000 : 0) | (rn(10) << 4) | rn(10); if (rn(10) == 0) *hi = rnd(); } break;
    case MT_M80: { f80 f = rval(); r = f.m; *hi = f.se; } break;
    default: r = 0xAAAAAAAAAAAAAAAAULL; break;
  }
  *lo = r;
}

static unsigned char buf[108];
static struct { uint64_t lo; uint16_t hi; uint16_t pad[3]; } mem;
static unsigned char one80[10] = {0,0,0,0,0,0,0,0x80,0xff,0x3f};

#define PRE  "fninit\n fldcw %[cw]\n cmpb $3, %[setup]\n jne 1f\n fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n 1:\n fldt %[b]\n fldt %[a]\n" \
             "cmpb $1, %[setup]\n jne 2f\n ffree %%st(1)\n 2:\n cmpb $2, %[setup]\n jne 3f\n ffree %%st(0)\n 3:\n push %[efl]\n popf\n"
#define POST "\n pushf\n pop %[eflo]\n fnsave %[buf]\n"
#define RUN(body) __asm__ volatile(PRE body POST : [buf]"=m"(buf), [mem]"+m"(mem), [eflo]"=&r"(eflo) : [cw]"m"(cw), [a]"m"(a), [b]"m"(b), [setup]"m"(setup), [efl]"r"(efl) : "memory", "cc")

struct op { int opc, modrm, mt, approx; };
static const struct op ops[] = {
#define R(o,m) {o,m,MT_NONE,0}
#define M(o,r,t) {o,((r)<<3)|5,t,0}
#define A(o,m) {o,m,MT_NONE,1}
  R(0xD8,0xC1),R(0xD8,0xC9),R(0xD8,0xE1),R(0xD8,0xE9),R(0xD8,0xF1),R(0xD8,0xF9),            // 0-5
  R(0xDC,0xC1),R(0xDC,0xC9),R(0xDC,0xE1),R(0xDC,0xE9),R(0xDC,0xF1),R(0xDC,0xF9),            // 6-11
  R(0xDE,0xC1),R(0xDE,0xC9),R(0xDE,0xE1),R(0xDE,0xE9),R(0xDE,0xF1),R(0xDE,0xF9),            // 12-17
  M(0xD8,0,MT_M32),M(0xD8,1,MT_M32),M(0xD8,2,MT_M32),M(0xD8,3,MT_M32),M(0xD8,4,MT_M32),M(0xD8,5,MT_M32),M(0xD8,6,MT_M32),M(0xD8,7,MT_M32), // 18-25
  M(0xDC,0,MT_M64),M(0xDC,1,MT_M64),M(0xDC,2,MT_M64),M(0xDC,3,MT_M64),M(0xDC,4,MT_M64),M(0xDC,5,MT_M64),M(0xDC,6,MT_M64),M(0xDC,7,MT_M64), // 26-33
  M(0xDA,0,MT_I32),M(0xDA,1,MT_I32),M(0xDA,2,MT_I32),M(0xDA,3,MT_I32),M(0xDA,4,MT_I32),M(0xDA,5,MT_I32),M(0xDA,6,MT_I32),M(0xDA,7,MT_I32), // 34-41
  M(0xDE,0,MT_I16),M(0xDE,1,MT_I16),M(0xDE,2,MT_I16),M(0xDE,3,MT_I16),M(0xDE,4,MT_I16),M(0xDE,5,MT_I16),M(0xDE,6,MT_I16),M(0xDE,7,MT_I16), // 42-49
  M(0xD9,0,MT_M32),M(0xDD,0,MT_M64),M(0xDB,5,MT_M80),M(0xDF,0,MT_I16),M(0xDB,0,MT_I32),M(0xDF,5,MT_I64),M(0xDF,4,MT_BCD),               // 50-56
  M(0xD9,2,0),M(0xD9,3,0),M(0xDD,2,0),M(0xDD,3,0),M(0xDB,7,0),M(0xDF,2,0),M(0xDF,3,0),M(0xDB,2,0),M(0xDB,3,0),M(0xDF,7,0),M(0xDF,6,0), // 57-67
  R(0xD9,0xC1),R(0xDD,0xD1),R(0xDD,0xD9),R(0xD9,0xC9),R(0xD9,0xE0),R(0xD9,0xE1),R(0xD9,0xE4),R(0xD9,0xE5),                            // 68-75
  R(0xD9,0xE8),R(0xD9,0xE9),R(0xD9,0xEA),R(0xD9,0xEB),R(0xD9,0xEC),R(0xD9,0xED),R(0xD9,0xEE),R(0xD9,0xF6),R(0xD9,0xF7),R(0xDD,0xC1),R(0xD9,0xD0), // 76-86
  R(0xD8,0xD1),R(0xD8,0xD9),R(0xDE,0xD9),R(0xDD,0xE1),R(0xDD,0xE9),R(0xDA,0xE9),R(0xDB,0xF1),R(0xDB,0xE9),R(0xDF,0xF1),R(0xDF,0xE9),      // 87-96
  R(0xDA,0xC1),R(0xDA,0xC9),R(0xDA,0xD1),R(0xDA,0xD9),R(0xDB,0xC1),R(0xDB,0xC9),R(0xDB,0xD1),R(0xDB,0xD9),                             // 97-104
  R(0xD9,0xFA),R(0xD9,0xFC),R(0xD9,0xFD),R(0xD9,0xF8),R(0xD9,0xF5),R(0xD9,0xF4),R(0xDF,0xC1),                                          // 105-111
  A(0xD9,0xFE),A(0xD9,0xFF),A(0xD9,0xFB),A(0xD9,0xF2),A(0xD9,0xF3),A(0xD9,0xF0),A(0xD9,0xF1),A(0xD9,0xF9),                             // 112-119
  R(0xDC,0xD1),R(0xDC,0xD9),R(0xDE,0xD1),R(0xD9,0xD9),R(0xDD,0xC9),R(0xDF,0xC9),R(0xDF,0xD1),R(0xDF,0xD9),                             // 120-127 aliases
};
#define NOPS (int)(sizeof ops / sizeof ops[0])

int main(int argc, char **argv){
  int n = argc > 1 ? atoi(argv[1]) : 100;
  rs ^= argc > 2 ? strtoull(argv[2],0,0) : 0;
  int only = argc > 3 ? atoi(argv[3]) : -1;
  for (int op = 0; op < NOPS; op++) {
    if (only >= 0 && op != only) continue;
    for (int i = 0; i < n; i++) {
      f80 a = rval(), b = rval();
      if (rn(4) == 0) { b = a; b.m ^= rnd() & ((1ULL << rn(64)) - 1); if (rn(2)) b.se ^= 0x8000; if (rn(2)) b.se += rn(3) - 1; }
      if (op == 107 && rn(2)) { b.se = (b.se & 0x8000) | (0x3FFF + rn(16)); }
      if ((op == 108 || op == 109) && rn(2)) { b.se = (b.se & 0x8000) | ((a.se & 0x7fff) - rn(70)); }
      if (op >= 112 && op <= 119 && rn(2)) { a.se = (a.se & 0x8000) | (0x3FFF - rn(8)); if (rn(2)) b.se = (b.se & 0x8000) | (0x3FFF - rn(8)); }
      if ((op == 106 || (op >= 62 && op <= 67)) && rn(2)) { a.se = (a.se & 0x8000) | (0x3FFF + rn(66) - 2); }
      uint16_t cw = 0x0040 | (rn(4) << 10) | ((rn(5)==0 ? 1 : (rn(3)==0?0:(rn(2)?2:3))) << 8) | (rn(4) == 0 ? rn(64) : 0x3F);
      int setup = rn(8) == 0 ? 1 + rn(3) : 0;
      unsigned long efl = 0x202 | (rn(2) ? 1 : 0) | (rn(2) ? 4 : 0) | (rn(2) ? 0x40 : 0), eflo = 0;
      rmem(ops[op].mt, &mem.lo, &mem.hi);
      uint64_t inlo = mem.lo; uint16_t inhi = mem.hi;
      switch (op) {
#define B(id, s) case id: RUN(s); break;
        B(0,".byte 0xD8,0xC1") B(1,".byte 0xD8,0xC9") B(2,".byte 0xD8,0xE1") B(3,".byte 0xD8,0xE9") B(4,".byte 0xD8,0xF1") B(5,".byte 0xD8,0xF9")
        B(6,".byte 0xDC,0xC1") B(7,".byte 0xDC,0xC9") B(8,".byte 0xDC,0xE1") B(9,".byte 0xDC,0xE9") B(10,".byte 0xDC,0xF1") B(11,".byte 0xDC,0xF9")
        B(12,".byte 0xDE,0xC1") B(13,".byte 0xDE,0xC9") B(14,".byte 0xDE,0xE1") B(15,".byte 0xDE,0xE9") B(16,".byte 0xDE,0xF1") B(17,".byte 0xDE,0xF9")
        B(18,"fadds %[mem]") B(19,"fmuls %[mem]") B(20,"fcoms %[mem]") B(21,"fcomps %[mem]") B(22,"fsubs %[mem]") B(23,"fsubrs %[mem]") B(24,"fdivs %[mem]") B(25,"fdivrs %[mem]")
        B(26,"faddl %[mem]") B(27,"fmull %[mem]") B(28,"fcoml %[mem]") B(29,"fcompl %[mem]") B(30,"fsubl %[mem]") B(31,"fsubrl %[mem]") B(32,"fdivl %[mem]") B(33,"fdivrl %[mem]")
        B(34,"fiaddl %[mem]") B(35,"fimull %[mem]") B(36,"ficoml %[mem]") B(37,"ficompl %[mem]") B(38,"fisubl %[mem]") B(39,"fisubrl %[mem]") B(40,"fidivl %[mem]") B(41,"fidivrl %[mem]")
        B(42,"fiadds %[mem]") B(43,"fimuls %[mem]") B(44,"ficoms %[mem]") B(45,"ficomps %[mem]") B(46,"fisubs %[mem]") B(47,"fisubrs %[mem]") B(48,"fidivs %[mem]") B(49,"fidivrs %[mem]")
        B(50,"flds %[mem]") B(51,"fldl %[mem]") B(52,"fldt %[mem]") B(53,"filds %[mem]") B(54,"fildl %[mem]") B(55,"fildll %[mem]") B(56,"fbld %[mem]")
        B(57,"fsts %[mem]") B(58,"fstps %[mem]") B(59,"fstl %[mem]") B(60,"fstpl %[mem]") B(61,"fstpt %[mem]") B(62,"fists %[mem]") B(63,"fistps %[mem]") B(64,"fistl %[mem]") B(65,"fistpl %[mem]") B(66,"fistpll %[mem]") B(67,"fbstp %[mem]")
        B(68,".byte 0xD9,0xC1") B(69,".byte 0xDD,0xD1") B(70,".byte 0xDD,0xD9") B(71,".byte 0xD9,0xC9") B(72,".byte 0xD9,0xE0") B(73,".byte 0xD9,0xE1") B(74,".byte 0xD9,0xE4") B(75,".byte 0xD9,0xE5")
        B(76,".byte 0xD9,0xE8") B(77,".byte 0xD9,0xE9") B(78,".byte 0xD9,0xEA") B(79,".byte 0xD9,0xEB") B(80,".byte 0xD9,0xEC") B(81,".byte 0xD9,0xED") B(82,".byte 0xD9,0xEE") B(83,".byte 0xD9,0xF6") B(84,".byte 0xD9,0xF7") B(85,".byte 0xDD,0xC1") B(86,".byte 0xD9,0xD0")
        B(87,".byte 0xD8,0xD1") B(88,".byte 0xD8,0xD9") B(89,".byte 0xDE,0xD9") B(90,".byte 0xDD,0xE1") B(91,".byte 0xDD,0xE9") B(92,".byte 0xDA,0xE9") B(93,".byte 0xDB,0xF1") B(94,".byte 0xDB,0xE9") B(95,".byte 0xDF,0xF1") B(96,".byte 0xDF,0xE9")
        B(97,".byte 0xDA,0xC1") B(98,".byte 0xDA,0xC9") B(99,".byte 0xDA,0xD1") B(100,".byte 0xDA,0xD9") B(101,".byte 0xDB,0xC1") B(102,".byte 0xDB,0xC9") B(103,".byte 0xDB,0xD1") B(104,".byte 0xDB,0xD9")
        B(105,".byte 0xD9,0xFA") B(106,".byte 0xD9,0xFC") B(107,".byte 0xD9,0xFD") B(108,".byte 0xD9,0xF8") B(109,".byte 0xD9,0xF5") B(110,".byte 0xD9,0xF4") B(111,".byte 0xDF,0xC1")
        B(112,".byte 0xD9,0xFE") B(113,".byte 0xD9,0xFF") B(114,".byte 0xD9,0xFB") B(115,".byte 0xD9,0xF2") B(116,".byte 0xD9,0xF3") B(117,".byte 0xD9,0xF0") B(118,".byte 0xD9,0xF1") B(119,".byte 0xD9,0xF9")
        B(120,".byte 0xDC,0xD1") B(121,".byte 0xDC,0xD9") B(122,".byte 0xDE,0xD1") B(123,".byte 0xD9,0xD9") B(124,".byte 0xDD,0xC9") B(125,".byte 0xDF,0xC9") B(126,".byte 0xDF,0xD1") B(127,".byte 0xDF,0xD9")
      }
      uint16_t sw = buf[4] | buf[5] << 8, tw = buf[8] | buf[9] << 8;
      printf("%02X %02X %d %d %d %04x %04lx %04x %016llx %04x %016llx %016llx %04x  %04x %04x", ops[op].opc, ops[op].modrm, ops[op].mt, ops[op].approx, setup, cw, efl & 0x45,
             a.se, (unsigned long long)a.m, b.se, (unsigned long long)b.m, (unsigned long long)inlo, inhi, sw, tw);
      for (int k = 0; k < 3; k++) { f80 f; memcpy(&f, buf + 28 + 10*k, 10); printf(" %04x %016llx", f.se, (unsigned long long)f.m); }
      printf(" %016llx %04x %04lx\n", (unsigned long long)mem.lo, mem.hi, eflo & 0x45);
    }
  }
  return 0;
}
