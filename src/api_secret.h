/* api_secret: write-only fields of a task on an edit (PUT). */
#ifndef DTS_API_SECRET_H
#define DTS_API_SECRET_H

#include <jansson.h>

#include "store.h"

/* A PUT body is the whole task, but a GET never shows the signing secret: so
 * an http action in BODY that omits "signing_secret" keeps task ID's stored
 * one, "signing_secret": null removes it, and the view's read-only "signed"
 * is dropped. Changes BODY in place. Returns STORE_OK (also when the task does
 * not exist: the edit then answers 404 itself) or STORE_EIO. */
int api_secret_keep(Store *st, const char *id, json_t *body);

#endif
