// Which field of the new-member form a refusal of the hub belongs to, so it is said
// there and what was typed stays.
import { Localizer } from "./localize/localize";

const FIELD_OF_REFUSAL: Record<string, string> = {
  card_in_use: "cards",
  card_duplicate: "cards",
  // The name was free when the form asked, then someone took it, and the admin said
  // no to a second member of that name: said at the name.
  member_name_taken: "name",
  user_linked: "user_id",
  login_username_taken: "login_username",
  login_and_user: "login_username",
  login_unavailable: "form",
  login_not_deactivatable: "form",
  pin_too_short: "pin",
  pin_too_long: "pin",
};

/** The form field a refusal is about: the exception's, or a validation error's field. */
export function fieldOf(err: unknown): string | undefined {
  const key = (err as { translation_key?: string } | null)?.translation_key;
  return (key && FIELD_OF_REFUSAL[key]) || Localizer.errorField(err);
}
