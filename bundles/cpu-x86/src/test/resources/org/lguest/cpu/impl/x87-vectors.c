// Generates x87 reference vectors on the real CPU (x86-64, FNSAVE 32-bit layout).
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
    case 0: return 0x8000000000000000ULL | (rnd() & ~((1ULL << rn(64)) - 1)); // trailing zeros
    case 1: return 0xFFFFFFFFFFFFFFFFULL ^ (rnd() & ((1ULL<<rn(64))-1) & ((rn(2))?0:~0ULL));
    case 2: return 0x8000000000000000ULL | (1ULL << rn(63));
    case 3: return 0x8000000000000000ULL | (rnd() & 0xFFFFFFFFFF000000ULL) | (rn(2) ? 0x8000000000ULL : 0x7FFFFFFFFFULL);  // near single ties
    case 4: return 0x8000000000000000ULL | (rnd() & 0xFFFFFFFFFFFFF800ULL) | (rn(2) ? 0x400ULL : 0x3FFULL);  // near double ties
    default: return 0x8000000000000000ULL | rnd();
  }
}
static f80 rval(int kind){
  f80 f; int s = rn(2) << 15; f.m = rsig();
  int k = kind >= 0 ? kind : rn(100);
  if (k < 45) { f.se = s | (0x3FFF - 40 + rn(80)); }
  else if (k < 55) { f.se = s | (0x3FFF + rn(64)); }                 // integers-ish
  else if (k < 62) { f.se = s | (1 + rn(70)); }                       // tiny normals
  else if (k < 67) { f.se = s | (0x7FFE - rn(70)); }                  // huge
  else if (k < 72) { f.se = s; f.m &= 0x7FFFFFFFFFFFFFFFULL; f.m >>= rn(64); } // denormal
  else if (k < 74) { f.se = s; }                                       // pseudo-denormal (J=1)
  else if (k < 80) { f.se = s; f.m = 0; }                              // zero
  else if (k < 84) { f.se = s | 0x7FFF; f.m = 0x8000000000000000ULL; } // inf
  else if (k < 87) { f.se = s | 0x7FFF; f.m |= 0xC000000000000000ULL; } // qnan
  else if (k < 90) { f.se = s | 0x7FFF; f.m = (f.m & 0xBFFFFFFFFFFFFFFFULL) | 1; } // snan
  else if (k < 91) { f.se = s | (1 + rn(0x7FFE)); f.m &= 0x7FFFFFFFFFFFFFFFULL; } // unnormal
  else if (k < 92) { f.se = s | 0x7FFF; f.m &= 0x7FFFFFFFFFFFFFFFULL; }  // pseudo nan/inf
  else if (k < 96) { f.se = s | (0x3FFF + rn(3) - 1); }
  else { f.se = s | (0x3FFF - 16383 + 64 + rn(200)); }                 // around single/double min
  return f;
}

static unsigned char buf[108];
static struct { uint64_t lo; uint16_t hi; uint16_t pad[3]; } mem;

#define PRE  "fninit\n fldcw %[cw]\n fldt %[b]\n fldt %[a]\n"
#define POST "fnsave %[buf]\n"
#define RUN(body) __asm__ volatile(PRE body POST : [buf]"=m"(buf), [mem]"+m"(mem) : [cw]"m"(cw), [a]"m"(a), [b]"m"(b) : "memory")

int main(int argc, char **argv){
  int n = argc > 1 ? atoi(argv[1]) : 100;
  rs ^= argc > 2 ? strtoull(argv[2],0,0) : 0;
  for (int op = 0; op < 34; op++) {
    for (int i = 0; i < n; i++) {
      f80 a = rval(-1), b = rval(-1);
      if (rn(4) == 0) { b = a; b.m ^= rnd() & ((1ULL << rn(64)) - 1); if (rn(2)) b.se ^= 0x8000; if (rn(2)) b.se += rn(3) - 1; }
      if (op == 11 && rn(2)) { b.se = (b.se & 0x8000) | (0x3FFF + rn(16)); }   // fscale with moderate scale
      if ((op == 9 || op == 10) && rn(2)) { b.se = (b.se & 0x8000) | ((a.se & 0x7fff) - rn(70)); }
      uint16_t cw = 0x0040 | (rn(4) << 10) | ((rn(4)==0 ? 1 : (rn(3)==0?0:(rn(2)?2:3))) << 8) | (rn(8) == 0 ? rn(64) : 0x3F);
      if (op >= 16 && rn(2)) cw = (cw & ~0x300) | 0x300;
      // memory-source ops take an m32/m64 value from random bits
      uint64_t r = rnd();
      switch (rn(6)) { case 0: r &= 0x80000000807FFFFFULL; break; case 1: r |= 0x7F8000007FF00000ULL; break; case 2: r &= 0x800FFFFFFFFFFFFFULL; break; default: break; }
      mem.lo = (op >= 24 && op <= 29) ? r : 0xAAAAAAAAAAAAAAAAULL; mem.hi = (op == 29) ? (uint16_t)(rnd() & 0x8099) : 0xAAAA;
      if (op == 29 && rn(2)) { uint64_t v = 0; for (int d = 0; d < 16; d++) v |= (uint64_t)rn(10) << (4*d); mem.lo = v; }
      uint64_t memin_lo = mem.lo; uint16_t memin_hi = mem.hi;
      switch (op) {
        case 0: RUN(".byte 0xD8,0xC1\n"); break;   // FADD ST0,ST1
        case 1: RUN(".byte 0xD8,0xE1\n"); break;   // FSUB
        case 2: RUN(".byte 0xD8,0xE9\n"); break;   // FSUBR
        case 3: RUN(".byte 0xD8,0xC9\n"); break;   // FMUL
        case 4: RUN(".byte 0xD8,0xF1\n"); break;   // FDIV
        case 5: RUN(".byte 0xD8,0xF9\n"); break;   // FDIVR
        case 6: RUN(".byte 0xD9,0xFA\n"); break;   // FSQRT
        case 7: RUN(".byte 0xD9,0xFC\n"); break;   // FRNDINT
        case 8: RUN(".byte 0xD9,0xF8\n"); break;   // FPREM
        case 9: RUN(".byte 0xD9,0xF5\n"); break;   // FPREM1
        case 10: RUN(".byte 0xD9,0xF8\n"); break;  // FPREM (close exponents)
        case 11: RUN(".byte 0xD9,0xFD\n"); break;  // FSCALE
        case 12: RUN(".byte 0xD9,0xF4\n"); break;  // FXTRACT
        case 13: RUN(".byte 0xD8,0xD1\n"); break;  // FCOM ST1
        case 14: RUN(".byte 0xDD,0xE1\n"); break;  // FUCOM ST1
        case 15: RUN(".byte 0xD9,0xE5\n"); break;  // FXAM
        case 16: RUN(".byte 0xD9,0xE4\n"); break;  // FTST
        case 17: RUN("fsts %[mem]\n"); break;
        case 18: RUN("fstl %[mem]\n"); break;
        case 19: RUN("fists %[mem]\n"); break;
        case 20: RUN("fistl %[mem]\n"); break;
        case 21: RUN("fistpll %[mem]\n"); break;
        case 22: RUN("fbstp %[mem]\n"); break;
        case 23: RUN(".byte 0xDE,0xC9\n"); break;  // FMULP ST1,ST0
        case 24: RUN("flds %[mem]\n"); break;
        case 25: RUN("fldl %[mem]\n"); break;
        case 26: RUN("fadds %[mem]\n"); break;
        case 27: RUN("fdivl %[mem]\n"); break;
        case 28: RUN("fcoms %[mem]\n"); break;
        case 29: RUN("fbld %[mem]\n"); break;
        case 30: RUN(".byte 0xDC,0xE9\n"); break;  // FSUB ST1,ST0 (DC E8+i)
        case 31: RUN(".byte 0xDE,0xF1\n"); break;  // FDIVRP ST1,ST0
        case 32: RUN(".byte 0xDB,0xF1\n"); break;  // FCOMI ST0,ST1 (flags not captured)
        case 33: RUN(".byte 0xD9,0xFC\n"); break;  // FRNDINT again
      }
      if (op == 29) { // fbld: make sure the operand was a valid BCD sometimes
      }
      uint16_t sw = buf[4] | buf[5] << 8, tw = buf[8] | buf[9] << 8;
      printf("%d %04x %04x %016llx %04x %016llx %016llx %04x %04x %04x", op, cw, a.se, (unsigned long long)a.m, b.se, (unsigned long long)b.m,
             (unsigned long long)memin_lo, memin_hi, sw, tw);
      for (int k = 0; k < 3; k++) { f80 f; memcpy(&f, buf + 28 + 10*k, 10); printf(" %04x %016llx", f.se, (unsigned long long)f.m); }
      printf(" %016llx %04x\n", (unsigned long long)mem.lo, mem.hi);
    }
  }
  return 0;
}
