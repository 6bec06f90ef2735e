// FRSTOR of random 108-byte images, then FNSAVE: "in" and "out" images, hex.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
static uint64_t rs = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void){ rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
static int rn(int n){ return (int)(rnd() % (uint64_t)n); }
int main(int argc, char **argv){
  int n = argc > 1 ? atoi(argv[1]) : 100;
  if (argc > 2) rs ^= strtoull(argv[2], 0, 0);
  unsigned char in[108], out[108], fx[512] __attribute__((aligned(16))), fxo[512] __attribute__((aligned(16)));
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < 108; k++) in[k] = rnd();
    // keep all exceptions masked half of the time, so the next waiting instruction does not trap (FNSAVE does not wait anyway)
    if (rn(2)) { in[0] |= 0x3f; }
    for (int r = 0; r < 8; r++) {
      unsigned char *p = in + 28 + 10 * r;
      switch (rn(6)) {
        case 0: p[8] = 0; p[9] &= 0x80; break;                 // exponent 0
        case 1: p[8] = 0xff; p[9] |= 0x7f; break;              // exponent max
        case 2: memset(p, 0, 8); break;                         // zero significand
        case 3: p[7] |= 0x80; break;                            // J bit
        default: break;
      }
    }
    __asm__ volatile("frstor %[i]\n fnsave %[o]\n" : [o]"=m"(out) : [i]"m"(in) : "memory");
    printf("R ");
    for (int k = 0; k < 108; k++) printf("%02x", in[k]);
    printf(" ");
    for (int k = 0; k < 108; k++) printf("%02x", out[k]);
    printf("\n");
  }
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < 512; k++) fx[k] = rnd();
    fx[24] = 0x80; fx[25] = 0x1f; fx[26] = 0; fx[27] = 0;   // valid MXCSR
    if (rn(2)) fx[0] |= 0x3f;
    __asm__ volatile("fxrstor %[i]\n fnsave %[o]\n" : [o]"=m"(out) : [i]"m"(fx) : "memory");
    printf("X ");
    for (int k = 0; k < 160; k++) printf("%02x", fx[k]);
    printf(" ");
    for (int k = 0; k < 108; k++) printf("%02x", out[k]);
    printf("\n");
  }
  return 0;
}
