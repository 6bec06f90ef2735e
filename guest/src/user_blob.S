/* user_blob.S - the ring-3 program (user/), embedded as a flat binary. */
	.section .rodata
	.align 4096
	.globl user_image_start, user_image_end
user_image_start:
	.incbin USER_BIN
user_image_end:
