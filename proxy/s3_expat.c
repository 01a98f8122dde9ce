/*
 * s3_expat.c - see s3_expat.h.
 */
#include "proxy/s3_expat.h"

#include <errno.h>
#include <limits.h>

static void XMLCALL on_doctype(void *arg, const XML_Char *name,
                               const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset)
{
    struct s3_expat *x = arg; /* the state's first member */

    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    x->doctype = true;
    XML_StopParser(x->p, XML_FALSE);
}

int s3_expat_parse(struct s3_expat *x, const char *body, size_t len,
                   XML_StartElementHandler start, XML_EndElementHandler end,
                   XML_CharacterDataHandler text)
{
    enum XML_Status st;

    if (len > INT_MAX)
        return 0;
    x->doctype = false;
    x->p = XML_ParserCreate(NULL);
    if (!x->p)
        return -ENOMEM;
    XML_SetUserData(x->p, x);
    XML_SetElementHandler(x->p, start, end);
    XML_SetCharacterDataHandler(x->p, text);
    XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
    st = XML_Parse(x->p, body, (int)len, XML_TRUE);
    XML_ParserFree(x->p);
    x->p = NULL;
    return st == XML_STATUS_OK && !x->doctype;
}
