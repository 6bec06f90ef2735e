#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
static uint64_t rs = 0x1234567ULL;
static uint64_t rnd(void){ rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
static int rn(int n){ return (int)(rnd() % (uint64_t)n); }
static unsigned char img[108], out[108], m[28], m2[28];
int main(int argc, char **argv){
  int n = atoi(argv[1]); rs ^= strtoull(argv[2], 0, 0);
  for (int op = 0; op < 7; op++) for (int i = 0; i < n; i++) {
    for (int k = 0; k < 108; k++) img[k] = rnd();
    for (int k = 0; k < 28; k++) m[k] = rnd();
    uint16_t cw = img[0] | img[1] << 8, sw = img[4] | img[5] << 8;
    sw &= ~(~cw & 0x3F); img[4] = sw; img[5] = sw >> 8;
    if (op == 1 || op == 4) { uint16_t c2 = m[0] | m[1] << 8, s2 = m[4] | m[5] << 8; if (rn(2)) { s2 &= ~(~c2 & 0x3F); m[4] = s2; m[5] = s2 >> 8; } }
    memcpy(m2, m, 28);
    unsigned short ax = 0;
    switch (op) {
      case 0: __asm__ volatile("frstor %[i]\n fnstenv %[m]\n fnsave %[o]" : [o]"=m"(out), [m]"+m"(m) : [i]"m"(img) : "memory"); break;
      case 1: __asm__ volatile("frstor %[i]\n fldenv %[m]\n fnsave %[o]" : [o]"=m"(out), [m]"+m"(m) : [i]"m"(img) : "memory"); break;
      case 2: __asm__ volatile("frstor %[i]\n fnclex\n fnsave %[o]" : [o]"=m"(out), [m]"+m"(m) : [i]"m"(img) : "memory"); break;
      case 3: __asm__ volatile("frstor %[i]\n fninit\n fnsave %[o]" : [o]"=m"(out), [m]"+m"(m) : [i]"m"(img) : "memory"); break;
      case 4: __asm__ volatile("frstor %[i]\n fldcw %[m]\n fnsave %[o]" : [o]"=m"(out), [m]"+m"(m) : [i]"m"(img) : "memory"); break;
      case 5: __asm__ volatile("frstor %[i]\n fnstcw %[m]\n fnstsw 2+%[m]\n fnstsw %%ax\n mov %%ax, %[ax]\n fnsave %[o]" : [o]"=m"(out), [m]"+m"(m), [ax]"=m"(ax) : [i]"m"(img) : "memory", "ax"); break;
      case 6: __asm__ volatile("frstor %[i]\n .byte 0x66\n fnstenv %[m]\n fnsave %[o]" : [o]"=m"(out), [m]"+m"(m) : [i]"m"(img) : "memory"); break;
    }
    printf("%d ", op);
    for (int k = 0; k < 108; k++) printf("%02x", img[k]);
    printf(" ");
    for (int k = 0; k < 28; k++) printf("%02x", m2[k]);
    printf(" ");
    for (int k = 0; k < 108; k++) printf("%02x", out[k]);
    printf(" ");
    for (int k = 0; k < 28; k++) printf("%02x", m[k]);
    printf(" %04x\n", ax);
  }
  return 0;
}
