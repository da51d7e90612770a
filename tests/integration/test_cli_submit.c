/*
 * test_cli_submit.c -- the CLI's generic `hanse tx submit KIND --payload`
 * against a real node: a founder registers a member through the member
 * module (no dedicated subcommand), the member is then queryable, and bad
 * kinds or payloads are refused on the command line with exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "itest.h"

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1};
  it_node n;
  it_init(&n, argv[1], "clisub", seeds, 1);
  IT_CHECK(it_start(&n, NULL, NULL) == 0);
  hanse_keypair founder;
  it_key(&founder, 1);
  char keyfile[300];
  snprintf(keyfile, sizeof keyfile, "%s/founder.json", n.dir);
  IT_CHECK(hanse_keyfile_write(keyfile, &founder) == HANSE_OK);
  char member[65], payload[512];
  it_pubhex(member, 9);
  snprintf(payload, sizeof payload,
           "{\"member\":{\"id\":\"desk\",\"kind\":\"department\",\"roles\":[\"platform\"],"
           "\"attributes\":{},\"key\":\"%s\"}}",
           member);
  const char *ok_argv[] = {argv[1], "tx", "submit", "member.register", "--payload", payload,
                           "--key", keyfile, "--node", n.url, "--chain", "clisub", "--wait", NULL};
  char *out = NULL;
  int rc = it_run(ok_argv, &out);
  if (rc != 0) fprintf(stderr, "hanse tx submit: %s\n", out ? out : "");
  IT_CHECK(rc == 0 && out && strstr(out, "\"committed\"") && strstr(out, "\"ok\""));
  free(out);
  char path[256];
  snprintf(path, sizeof path, "/v1/chains/clisub/query/member/member?key=%s", member);
  long st;
  json_t *j = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && strcmp(json_string_value(json_object_get(j, "id")), "desk") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(j, "org")), "org1") == 0);
  json_decref(j);
  const char *bad_kind[] = {argv[1], "tx", "submit", "nodot", "--payload", "{}", "--key", keyfile,
                            "--node", n.url, NULL};
  IT_CHECK(it_run(bad_kind, NULL) == 2);
  const char *bad_payload[] = {argv[1], "tx", "submit", "member.register", "--payload", "[1]",
                               "--key", keyfile, "--node", n.url, NULL};
  IT_CHECK(it_run(bad_payload, NULL) == 2);
  it_stop(&n);

  /* hanse init --type private: the type and its default policy land in
   * the genesis; a wrong type is a usage error. */
  char pdir[300], gpath[400];
  snprintf(pdir, sizeof pdir, "%s/private-data", n.dir);
  const char *init_argv[] = {argv[1], "init", "--data", pdir, "--chain", "acme-internal",
                             "--type", "private", NULL};
  IT_CHECK(it_run(init_argv, NULL) == 0);
  snprintf(gpath, sizeof gpath, "%s/chains/acme-internal/genesis.json", pdir);
  json_t *g = json_load_file(gpath, 0, NULL);
  IT_CHECK(g && strcmp(json_string_value(json_object_get(g, "type")), "private") == 0);
  IT_CHECK(json_object_get(json_object_get(json_object_get(g, "policy"), "submit"), "member.*"));
  json_decref(g);
  const char *bad_type[] = {argv[1], "init", "--data", pdir, "--chain", "other", "--type",
                            "public", NULL};
  IT_CHECK(it_run(bad_type, NULL) == 2);
  it_cleanup_all();
  printf("test_cli_submit: ok\n");
  return 0;
}
