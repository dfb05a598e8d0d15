// A test fixture: never assembled by the tests (the kernel refuses it).
TEXT ·Sum(SB), 4, $0-32
	RET
