#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
static uint64_t rs = 0x77ULL;
static uint64_t rnd(void){ rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
static unsigned char img[108], fx[512] __attribute__((aligned(16)));
int main(int argc, char **argv){
  int n = atoi(argv[1]);
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < 108; k++) img[k] = rnd();
    memset(fx, 0xAA, 512);
    __asm__ volatile("frstor %[i]\n fxsave %[f]\n fninit" : [f]"=m"(fx) : [i]"m"(img) : "memory");
    for (int k = 0; k < 108; k++) printf("%02x", img[k]);
    printf(" ");
    for (int k = 0; k < 160; k++) printf("%02x", fx[k]);
    printf("\n");
  }
  return 0;
}
