// @ts-check
// The operator signs in with the admin key. It is kept in sessionStorage only: gone when the tab
// closes, never in a cookie, so no other site can make the browser use it.
import { describedBy, Field } from '../components/field.js';
import { createApi } from '../lib/api.js';
import { html, useState } from '../lib/html.js';

export function SignInPage({ onSignedIn }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // An admin-only route: a tenant key or a wrong key is refused here, not on the next page.
      await createApi(key.trim()).get('/v1/stats');
      onSignedIn(key.trim());
    } catch (err) {
      setError(
        err.status === 403
          ? 'This is not the admin key.'
          : err.status === 401
            ? 'This key is not valid.'
            : err.message,
      );
    } finally {
      setBusy(false);
    }
  }
  return html`<main id="main" class="sign-in">
    <h1>Herald</h1>
    <form class="form card" onSubmit=${submit}>
      <${Field} id="admin-key" label="Admin key" error=${error} hint="Kept in this browser tab only.">
        <input id="admin-key" type="password" autocomplete="current-password" required value=${key}
          onInput=${(e) => setKey(e.currentTarget.value)} ...${describedBy('admin-key', error, true)} />
      <//>
      <button type="submit" disabled=${busy || !key}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}
