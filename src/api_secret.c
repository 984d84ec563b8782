/* api_secret: an edit keeps the signing secret it cannot have read. */
#include "api_secret.h"

#include <string.h>

#include "store_task.h"

int api_secret_keep(Store *st, const char *id, json_t *body)
{
    json_t *action = json_object_get(body, "action");
    if (!json_is_object(action))
        return STORE_OK;
    json_object_del(action, "signed");
    json_t *given = json_object_get(action, "signing_secret");
    const char *type = json_string_value(json_object_get(action, "type"));
    if (json_is_null(given))
        json_object_del(action, "signing_secret");
    if (given != NULL || type == NULL || strcmp(type, "http") != 0)
        return STORE_OK;
    TaskStored old;
    int rv = store_task_stored(st, id, &old);
    if (rv != STORE_OK)
        return rv == STORE_ENOTFOUND ? STORE_OK : rv;
    json_t *secret = json_object_get(json_object_get(old.spec, "action"), "signing_secret");
    if (json_is_string(secret))
        json_object_set(action, "signing_secret", secret);
    json_decref(old.spec);
    return STORE_OK;
}
