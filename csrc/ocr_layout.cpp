/*
 * ocr_layout.cpp: tb_ocr_page_read(), every row of a page iterator in one call.
 *
 * Tesseract's C API has no row attributes and no LSTM symbol choices (both are C++
 * only: PageIterator::RowAttributes, ResultIterator::GetBestLSTMSymbolChoices), so this
 * one file of the shim is C++; it exports plain C functions (extern "C") and lets no
 * exception cross the boundary.
 *
 * The walk visits every position of the iterator (Begin, then Next(RIL_SYMBOL), which
 * also stops once on each block without text) and, at each position, records for every
 * level that begins there one element: box, baseline, text and confidence (recognised
 * pages), and the level's own rows: block type, orientation and polygon; paragraph
 * info; row attributes; word font attributes, dictionary and numeric flags, language,
 * blanks before, LSTM symbol choices; symbol flags and its choice iterator's
 * alternatives.  Python then moves over the arrays without calling back into C.
 */
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/capi.h>
#include <tesseract/osdetect.h>
#include <tesseract/ltrresultiterator.h>
#include <tesseract/pageiterator.h>
#include <tesseract/resultiterator.h>

extern "C" {
#include "ocr_internal.h"
}

namespace {

using tesseract::RIL_BLOCK;
using tesseract::RIL_PARA;
using tesseract::RIL_SYMBOL;
using tesseract::RIL_TEXTLINE;
using tesseract::RIL_WORD;

/* Grow a malloc'ed array to hold at least `need` items; false when out of memory. */
template <typename T> bool reserve(T **items, size_t *capacity, size_t need)
{
    if (need <= *capacity)
        return true;
    size_t wanted = *capacity ? *capacity : 64;
    while (wanted < need)
        wanted *= 2;
    void *grown = std::realloc(*items, wanted * sizeof(T));
    if (grown == nullptr)
        return false;
    *items = static_cast<T *>(grown);
    *capacity = wanted;
    return true;
}

class PageBuilder {
public:
    tb_ocr_page *page;
    size_t item_capacity[TB_OCR_LEVELS] = {0, 0, 0, 0, 0};
    size_t position_capacity = 0, polygon_capacity = 0, timestep_capacity = 0;
    size_t choice_capacity = 0, text_capacity = 0;

    explicit PageBuilder(tb_ocr_page *out) : page(out) {}

    /* Append `length` bytes of text; its offset goes to *offset.  false on no memory. */
    bool text(const char *data, size_t length, size_t *offset)
    {
        if (!reserve(&page->text, &text_capacity, page->text_length + length + 1))
            return false;
        std::memcpy(page->text + page->text_length, data, length);
        *offset = page->text_length;
        page->text_length += length;
        page->text[page->text_length] = '\0';
        return true;
    }

    bool choice(const char *symbol, float value)
    {
        if (!reserve(&page->choices, &choice_capacity, page->choice_count + 1))
            return false;
        tb_ocr_choice *c = &page->choices[page->choice_count];
        c->value = value;
        c->text_length = symbol ? std::strlen(symbol) : 0;
        if (!text(symbol ? symbol : "", c->text_length, &c->text_offset))
            return false;
        page->choice_count++;
        return true;
    }
};

/* The block's own rows: orientation, polygon. */
bool read_block(PageBuilder &b, const tesseract::PageIterator *it, tb_ocr_item *item)
{
    auto orientation = tesseract::ORIENTATION_PAGE_UP;
    auto direction = tesseract::WRITING_DIRECTION_LEFT_TO_RIGHT;
    auto order = tesseract::TEXTLINE_ORDER_TOP_TO_BOTTOM;
    float deskew = 0.0f;
    const_cast<tesseract::PageIterator *>(it)->Orientation(&orientation, &direction, &order,
                                                            &deskew);
    item->orientation = orientation;
    item->writing_direction = direction;
    item->textline_order = order;
    item->deskew_angle = deskew;
    item->polygon_offset = b.page->polygon_count / 2;
    item->polygon_count = 0;
    Pta *polygon = it->BlockPolygon();
    if (polygon == nullptr)
        return true;
    l_int32 points = ptaGetCount(polygon);
    bool ok = reserve(&b.page->polygon, &b.polygon_capacity,
                      b.page->polygon_count + 2 * (size_t)(points > 0 ? points : 0));
    for (l_int32 i = 0; ok && i < points; i++) {
        l_int32 x = 0, y = 0;
        ptaGetIPt(polygon, i, &x, &y);
        b.page->polygon[b.page->polygon_count++] = x;
        b.page->polygon[b.page->polygon_count++] = y;
        item->polygon_count++;
    }
    ptaDestroy(&polygon);
    return ok;
}

/* The word's own rows: font, flags, language, LSTM symbol choices. */
bool read_word(PageBuilder &b, const tesseract::LTRResultIterator *it, tb_ocr_item *item)
{
    bool bold = false, italic = false, underlined = false, monospace = false, serif = false,
         smallcaps = false;
    int pointsize = 0, font_id = -1;
    const char *font = it->WordFontAttributes(&bold, &italic, &underlined, &monospace, &serif,
                                              &smallcaps, &pointsize, &font_id);
    item->has_font = font != nullptr;
    item->is_bold = bold;
    item->is_italic = italic;
    item->is_underlined = underlined;
    item->is_monospace = monospace;
    item->is_serif = serif;
    item->is_smallcaps = smallcaps;
    item->pointsize = pointsize;
    item->font_id = font_id;
    if (font != nullptr) {
        item->font_length = std::strlen(font);
        if (!b.text(font, item->font_length, &item->font_offset))
            return false;
    }
    item->from_dictionary = it->WordIsFromDictionary();
    item->numeric = it->WordIsNumeric();
    const char *language = it->WordRecognitionLanguage();
    item->has_language = language != nullptr;
    if (language != nullptr) {
        item->language_length = std::strlen(language);
        if (!b.text(language, item->language_length, &item->language_offset))
            return false;
    }
    item->timestep_offset = b.page->timestep_count;
    item->timestep_count = 0;
    auto *result = dynamic_cast<const tesseract::ResultIterator *>(it);
    if (result == nullptr)
        return true;
    item->blanks_before = result->BlanksBeforeWord();
    const auto *steps = result->GetBestLSTMSymbolChoices();
    if (steps == nullptr)
        return true;
    for (const auto &step : *steps) {
        if (!reserve(&b.page->timesteps, &b.timestep_capacity, b.page->timestep_count + 1))
            return false;
        tb_ocr_timestep *t = &b.page->timesteps[b.page->timestep_count++];
        t->choice_offset = b.page->choice_count;
        t->choice_count = step.size();
        item->timestep_count++;
        for (const auto &alternative : step)
            if (!b.choice(alternative.first, alternative.second))
                return false;
    }
    return true;
}

/* The symbol's own rows: script position, drop cap, its choice iterator's choices. */
bool read_symbol(PageBuilder &b, const tesseract::LTRResultIterator *it, tb_ocr_item *item)
{
    item->superscript = it->SymbolIsSuperscript();
    item->subscript = it->SymbolIsSubscript();
    item->dropcap = it->SymbolIsDropcap();
    item->choice_offset = b.page->choice_count;
    item->choice_count = 0;
    /* A ChoiceIterator removes the spaces from the word's LSTM choices (filterSpaces), so
       reading a page would change what the next reading finds: keep them and put them
       back afterwards. */
    auto *result = dynamic_cast<const tesseract::ResultIterator *>(it);
    auto *steps = result ? result->GetBestLSTMSymbolChoices() : nullptr;
    std::vector<std::vector<std::pair<const char *, float>>> saved;
    if (steps != nullptr)
        saved = *steps;
    bool ok = true;
    {
        tesseract::ChoiceIterator choices(*it);
        do {
            const char *text = choices.GetUTF8Text();
            if (text == nullptr)
                break;
            if (!(ok = b.choice(text, choices.Confidence())))
                break;
            item->choice_count++;
        } while (choices.Next());
    }
    if (steps != nullptr)
        *steps = std::move(saved);
    return ok;
}

/* One element of `level` beginning at the iterator's position. */
bool read_item(PageBuilder &b, const tesseract::PageIterator *it,
               const tesseract::LTRResultIterator *result, int level, tb_ocr_item *item)
{
    auto ril = static_cast<tesseract::PageIteratorLevel>(level);
    std::memset(item, 0, sizeof *item);
    item->font_id = -1;
    item->confidence = -1.0f;
    item->empty = it->Empty(ril);
    item->has_box = it->BoundingBox(ril, &item->left, &item->top, &item->right,
                                    &item->bottom);
    item->has_baseline = it->Baseline(ril, &item->baseline[0], &item->baseline[1],
                                      &item->baseline[2], &item->baseline[3]);
    item->block_type = it->BlockType();
    if (result != nullptr && !item->empty) {
        /* LTRResultIterator::GetUTF8Text is not virtual: through a ResultIterator the text
           is in reading order (a right-to-left word as written), as the C API and tesserocr
           give it; the LTR one would give it in the order drawn. */
        auto *reading = dynamic_cast<const tesseract::ResultIterator *>(result);
        char *text = reading != nullptr ? reading->GetUTF8Text(ril) : result->GetUTF8Text(ril);
        if (text != nullptr) {
            item->has_text = 1;
            item->text_length = std::strlen(text);
            bool ok = b.text(text, item->text_length, &item->text_offset);
            delete[] text;
            if (!ok)
                return false;
        }
        item->confidence = result->Confidence(ril);
    }
    switch (level) {
    case RIL_BLOCK:
        return read_block(b, it, item);
    case RIL_PARA:
        if (!item->empty) {
            auto justification = tesseract::JUSTIFICATION_UNKNOWN;
            bool list_item = false, crown = false;
            int indent = 0;
            const_cast<tesseract::PageIterator *>(it)->ParagraphInfo(&justification, &list_item,
                                                                   &crown, &indent);
            item->justification = justification;
            item->is_list_item = list_item;
            item->is_crown = crown;
            item->first_line_indent = indent;
        }
        return true;
    case RIL_TEXTLINE:
        if (!item->empty)
            it->RowAttributes(&item->row_height, &item->descenders, &item->ascenders);
        return true;
    case RIL_WORD:
        return item->empty || result == nullptr || read_word(b, result, item);
    default:
        return item->empty || result == nullptr || read_symbol(b, result, item);
    }
}

int walk(PageBuilder &b, tesseract::PageIterator *it, const tesseract::LTRResultIterator *result)
{
    tb_ocr_page *page = b.page;
    int current[TB_OCR_LEVELS] = {-1, -1, -1, -1, -1};
    it->Begin();
    if (it->Empty(tesseract::RIL_BLOCK))
        return TB_OK; /* nothing on the page */
    do {
        if (!reserve(&page->positions, &b.position_capacity, page->position_count + 1))
            return TB_E_NOMEM;
        tb_ocr_position *position = &page->positions[page->position_count];
        position->begins = 0;
        bool deeper = false; /* a level begins here, so every level below does too */
        for (int level = RIL_BLOCK; level <= RIL_SYMBOL; level++) {
            auto ril = static_cast<tesseract::PageIteratorLevel>(level);
            if (deeper || it->IsAtBeginningOf(ril) || current[level] < 0) {
                deeper = true;
                if (!reserve(&page->items[level], &b.item_capacity[level],
                             page->item_count[level] + 1))
                    return TB_E_NOMEM;
                if (!read_item(b, it, result, level, &page->items[level][page->item_count[level]]))
                    return TB_E_NOMEM;
                current[level] = (int)page->item_count[level]++;
                position->begins |= 1 << level;
            }
            position->element[level] = current[level];
        }
        page->position_count++;
    } while (it->Next(tesseract::RIL_SYMBOL));
    return TB_OK;
}

} // namespace

extern "C" int tb_ocr_page_read(TessPageIterator *iterator, int recognized, tb_ocr_page **out)
{
    if (iterator == nullptr || out == nullptr)
        return TB_E_ARG;
    *out = nullptr;
    auto *page = static_cast<tb_ocr_page *>(std::calloc(1, sizeof(tb_ocr_page)));
    if (page == nullptr)
        return TB_E_NOMEM;
    int rc;
    try {
        PageBuilder builder(page);
        auto *it = reinterpret_cast<tesseract::PageIterator *>(iterator);
        const tesseract::LTRResultIterator *result =
            recognized ? dynamic_cast<const tesseract::LTRResultIterator *>(it) : nullptr;
        if (recognized && result == nullptr)
            rc = TB_E_ARG;
        else
            rc = walk(builder, it, result);
    } catch (const std::bad_alloc &) {
        rc = TB_E_NOMEM;
    } catch (...) {
        tb_ocr_note("Tesseract failed while reading the page");
        rc = TB_OCR_E_FAILED;
    }
    if (rc != TB_OK) {
        tb_ocr_page_free(page);
        return rc;
    }
    page->recognized = recognized != 0;
    *out = page;
    return TB_OK;
}

extern "C" void tb_ocr_page_free(tb_ocr_page *page)
{
    if (page == nullptr)
        return;
    std::free(page->positions);
    for (int level = 0; level < TB_OCR_LEVELS; level++)
        std::free(page->items[level]);
    std::free(page->polygon);
    std::free(page->timesteps);
    std::free(page->choices);
    std::free(page->text);
    std::free(page);
}

extern "C" int tb_ocr_detect_os(TessBaseAPI *api, tb_ocr_osd *out)
{
    if (api == nullptr || out == nullptr)
        return TB_E_ARG;
    try {
        tesseract::OSResults results;
        if (!reinterpret_cast<tesseract::TessBaseAPI *>(api)->DetectOS(&results))
            return TB_OCR_E_FAILED;
        const tesseract::OSBestResult &best = results.best_result;
        out->orientation_id = best.orientation_id;
        out->orientation_confidence = best.oconfidence;
        out->script_id = results.get_best_script(best.orientation_id);
        out->script_confidence = best.sconfidence;
    } catch (const std::bad_alloc &) {
        return TB_E_NOMEM;
    } catch (...) {
        tb_ocr_note("Tesseract failed while detecting orientation and script");
        return TB_OCR_E_FAILED;
    }
    return TB_OK;
}
