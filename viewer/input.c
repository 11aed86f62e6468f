/* Keys and mouse: each SDL event becomes one change of the state. Overlays
 * (model menu, help) take the keys first; hit tests use the geometry the
 * panels recorded in s->ui while drawing the last frame.
 */
#include <stdio.h>
#include <string.h>

#include "export.h"
#include "input.h"
#include "tour.h"

#define UI_SCALE_MIN 0.5f
#define UI_SCALE_MAX 3.0f
#define UI_SCALE_STEP 0.125f

static const char *const families[8] = {"lenet",  "alexnet",  "googlenet", "vgg",
                                        "resnet", "xception", "senet",     "densenet"};

const char *vw_family_model(int number)
{
    if (number < 1 || number > 8)
        return NULL;
    for (int i = 0; i < cs_model_count(); i++) {
        const cs_model_info *m = cs_model_at(i);
        if (m && strcmp(m->family, families[number - 1]) == 0)
            return m->name;
    }
    return NULL;
}

static void step(vw_state *s, int delta)
{
    if (s->tour && s->tour_active) {
        vw_tour_go(s, s->tour->current + delta);
        return;
    }
    vw_state_goto(s, s->cursor + delta);
}

static void picker_key(vw_state *s, SDL_Keycode k)
{
    int n = cs_model_count();
    switch (k) {
    case SDLK_ESCAPE:
    case SDLK_m: s->picker = 0; break;
    case SDLK_UP: s->picker_sel = s->picker_sel > 0 ? s->picker_sel - 1 : 0; break;
    case SDLK_DOWN: s->picker_sel = s->picker_sel < n - 1 ? s->picker_sel + 1 : n - 1; break;
    case SDLK_PAGEUP: s->picker_sel = s->picker_sel > 8 ? s->picker_sel - 8 : 0; break;
    case SDLK_PAGEDOWN: s->picker_sel = s->picker_sel < n - 9 ? s->picker_sel + 8 : n - 1; break;
    case SDLK_RETURN:
    case SDLK_KP_ENTER:
        s->picker = 0;
        vw_state_request_model(s, cs_model_at(s->picker_sel)->name);
        break;
    case SDLK_q: s->quit = 1; break;
    default: break;
    }
}

static void open_picker(vw_state *s)
{
    s->picker = 1;
    s->help = 0;
    s->picker_sel = 0;
    for (int i = 0; i < cs_model_count(); i++)
        if (s->m.info == cs_model_at(i))
            s->picker_sel = i;
}

static void key(vw_state *s, SDL_Keycode k, Uint16 mod)
{
    s->redraw = 1;
    if (s->picker) {
        picker_key(s, k);
        return;
    }
    if (s->help && k != SDLK_q) {
        s->help = 0;
        if (k == SDLK_ESCAPE || k == SDLK_h || k == SDLK_F1)
            return;
    }
    switch (k) {
    case SDLK_RIGHT:
    case SDLK_PAGEDOWN:
        if ((mod & KMOD_SHIFT) && k == SDLK_PAGEDOWN)
            s->page++;
        else
            step(s, 1);
        break;
    case SDLK_LEFT:
    case SDLK_PAGEUP:
        if ((mod & KMOD_SHIFT) && k == SDLK_PAGEUP)
            s->page = s->page > 0 ? s->page - 1 : 0;
        else
            step(s, -1);
        break;
    case SDLK_HOME: vw_state_goto(s, 0); break;
    case SDLK_END: vw_state_goto(s, s->m.n_nodes - 1); break;
    case SDLK_SPACE:
        s->playing = !s->playing;
        s->play_due = SDL_GetTicks();
        if (s->playing && s->cursor >= s->m.n_nodes - 1)
            vw_state_goto(s, 0);
        break;
    case SDLK_RIGHTBRACKET: s->page++; break;
    case SDLK_LEFTBRACKET: s->page = s->page > 0 ? s->page - 1 : 0; break;
    case SDLK_1:
    case SDLK_2:
    case SDLK_3:
    case SDLK_4:
    case SDLK_5:
    case SDLK_6:
    case SDLK_7:
    case SDLK_8: {
        const char *name = vw_family_model((int)(k - SDLK_0));
        if (name && (!s->m.info || strcmp(name, s->m.info->name) != 0))
            vw_state_request_model(s, name);
        break;
    }
    case SDLK_m: open_picker(s); break;
    case SDLK_h:
    case SDLK_F1: s->help = 1; break;
    case SDLK_s: s->want_screenshot = 1; break;
    case SDLK_e: vw_export_layer(s); break;
    case SDLK_c: s->captions = !s->captions; break;
    case SDLK_t:
        if (s->tour) {
            s->tour_active = !s->tour_active;
            if (s->tour_active)
                vw_tour_go(s, s->tour->current);
        }
        break;
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS:
        s->ui_scale = s->ui_scale + UI_SCALE_STEP > UI_SCALE_MAX ? UI_SCALE_MAX : s->ui_scale + UI_SCALE_STEP;
        break;
    case SDLK_MINUS:
    case SDLK_KP_MINUS:
        s->ui_scale = s->ui_scale - UI_SCALE_STEP < UI_SCALE_MIN ? UI_SCALE_MIN : s->ui_scale - UI_SCALE_STEP;
        break;
    case SDLK_0: s->ui_scale = 1.0f; break;
    case SDLK_f:
    case SDLK_F11: s->want_fullscreen = 1; break;
    case SDLK_g: s->scope = (vw_scope)((s->scope + 1) % VW_SCOPE_COUNT); break;
    case SDLK_p: s->presenter = !s->presenter; break;
    case SDLK_ESCAPE:
        if (s->zoom >= 0)
            s->zoom = -1;
        else
            s->quit = 1;
        break;
    case SDLK_q: s->quit = 1; break;
    default: s->redraw = 0; break;
    }
}

/* ------------------------------------------------------------------------ */
/* Mouse                                                                    */
/* ------------------------------------------------------------------------ */

/* The channel and map position under (x, y) in the grid, or in the zoomed map. */
static void hover(vw_state *s)
{
    const vw_ui *ui = &s->ui;
    int x = ui->mouse_x, y = ui->mouse_y;
    int ch = -1, my = -1, mx = -1;
    if (s->zoom >= 0 && ui->zoom_map.w > 0 && vw_contains(ui->zoom_map, x, y)) {
        ch = s->zoom;
        my = (y - ui->zoom_map.y) * ui->map_h / ui->zoom_map.h;
        mx = (x - ui->zoom_map.x) * ui->map_w / ui->zoom_map.w;
    } else if (s->zoom < 0 && ui->grid.w > 0 && vw_contains(ui->grid, x, y)) {
        int pw = ui->grid_cell_w + ui->grid_gutter, ph = ui->grid_cell_h + ui->grid_gutter;
        int col = (x - ui->grid.x) / pw, row = (y - ui->grid.y) / ph;
        int cx = (x - ui->grid.x) % pw, cy = (y - ui->grid.y) % ph;
        int i = row * ui->grid_cols + col;
        if (col < ui->grid_cols && cx < ui->grid_cell_w && cy < ui->grid_cell_h && i < ui->grid_count) {
            ch = ui->grid_first + i;
            my = cy * ui->map_h / ui->grid_cell_h;
            mx = cx * ui->map_w / ui->grid_cell_w;
        }
    }
    if (ch != s->hover_channel || my != s->hover_y || mx != s->hover_x)
        s->redraw = 1;
    s->hover_channel = s->zoom >= 0 ? -1 : ch;
    s->hover_y = my;
    s->hover_x = mx;
}

static void click(vw_state *s, int button)
{
    const vw_ui *ui = &s->ui;
    int x = ui->mouse_x, y = ui->mouse_y;
    s->redraw = 1;
    if (s->help) {
        s->help = 0;
        return;
    }
    if (s->picker) {
        if (vw_contains(ui->picker, x, y) && ui->picker_row_h > 0) {
            int i = ui->picker_first + (y - ui->picker.y) / ui->picker_row_h;
            if (i >= 0 && i < cs_model_count()) {
                s->picker = 0;
                vw_state_request_model(s, cs_model_at(i)->name);
            }
        } else {
            s->picker = 0;
        }
        return;
    }
    if (vw_contains(ui->list, x, y) && ui->list_row_h > 0 && y >= ui->list_y0) {
        int row = ui->list_first + (y - ui->list_y0) / ui->list_row_h;
        if (row >= 0 && row < s->m.n_rows) {
            const vw_row *r = &s->m.rows[row];
            int node = r->node;
            if (node < 0) {
                cs_block_info info = {0};
                cs_graph_block(s->m.g, r->block, &info);
                node = info.last;
            }
            vw_state_goto(s, node);
            s->list_follow = 0;
        }
        return;
    }
    if (s->zoom >= 0 && vw_contains(ui->maps, x, y)) {
        if (button == SDL_BUTTON_RIGHT || !vw_contains(ui->zoom_map, x, y))
            s->zoom = -1;
        return;
    }
    if (s->zoom < 0 && s->hover_channel >= 0 && button == SDL_BUTTON_LEFT && !ui->vector) {
        s->zoom = s->hover_channel;
        s->hover_channel = -1;
    }
}

static void wheel(vw_state *s, int dy)
{
    const vw_ui *ui = &s->ui;
    s->redraw = 1;
    if (s->picker) {
        s->picker_sel -= dy;
        return;
    }
    if (vw_contains(ui->list, ui->mouse_x, ui->mouse_y)) {
        s->list_scroll -= dy * 3;
        s->list_follow = 0;
    } else if (vw_contains(ui->maps, ui->mouse_x, ui->mouse_y) && s->zoom < 0) {
        s->page -= dy;
        if (s->page < 0)
            s->page = 0;
    }
}

void vw_input_event(vw_state *s, const SDL_Event *e, float dpi)
{
    switch (e->type) {
    case SDL_QUIT: s->quit = 1; break;
    case SDL_KEYDOWN: key(s, e->key.keysym.sym, e->key.keysym.mod); break;
    case SDL_MOUSEMOTION:
        s->ui.mouse_x = (int)((float)e->motion.x * dpi);
        s->ui.mouse_y = (int)((float)e->motion.y * dpi);
        hover(s);
        if (vw_contains(s->ui.list, s->ui.mouse_x, s->ui.mouse_y) || s->picker)
            s->redraw = 1;
        break;
    case SDL_MOUSEBUTTONDOWN:
        s->ui.mouse_x = (int)((float)e->button.x * dpi);
        s->ui.mouse_y = (int)((float)e->button.y * dpi);
        hover(s);
        click(s, e->button.button);
        break;
    case SDL_MOUSEWHEEL: wheel(s, e->wheel.y); break;
    case SDL_DROPFILE:
        if (e->drop.file) {
            s->image_user = 1;
            if (vw_state_set_image(s, e->drop.file) == 0)
                vw_state_message(s, 0, "image %s", e->drop.file);
            SDL_free(e->drop.file);
        }
        break;
    case SDL_WINDOWEVENT: s->redraw = 1; break;
    default: break;
    }
}

int vw_input_keys(vw_state *s, const char *keys)
{
    for (const char *p = keys; *p; p++) {
        SDL_Keycode k = (SDL_Keycode)(unsigned char)*p;
        switch (*p) {
        case '>': k = SDLK_RIGHT; break;
        case '<': k = SDLK_LEFT; break;
        case '^': k = SDLK_HOME; break;
        case '$': k = SDLK_END; break;
        case '+': k = SDLK_PLUS; break;
        default:
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
                fprintf(stderr, "convscope-viewer: --keys: cannot replay character 0x%02x\n",
                        (unsigned char)*p);
                return -1;
            }
            break;
        }
        key(s, k, 0);
        /* keys that open a model or change layers take effect before the next key */
        while (s->pending_model[0] || vw_state_busy(s))
            vw_state_tick(s, SDL_GetTicks());
    }
    return 0;
}
