/* seedconf.c -- placeholder */
