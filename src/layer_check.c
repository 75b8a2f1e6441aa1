/*
 * layer_check.c -- the main() of the layer_check_LAYER executables.  Each
 * links one layer's library whole (every object, used or not) against the
 * libraries that layer declares, and nothing else, so an undeclared
 * dependency is a link error.  The program itself does nothing.
 */
int main(void);

int
main(void)
{
	return 0;
}
